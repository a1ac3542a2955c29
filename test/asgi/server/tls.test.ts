import assert from "node:assert/strict";
import { get } from "node:https";
import { after, before, describe, it } from "node:test";
import {
  makeCertificates,
  serverSkip,
  type TempDir,
  type TestCertificates,
  tempDir,
} from "../../servers/common.js";
import { start, textApp } from "./helpers.js";

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        body += chunk;
      });
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    }).on("error", reject);
  });
}

describe("HTTPS (tls option)", { skip: serverSkip("openssl", "openssl") }, () => {
  let dir: TempDir;
  let certificates: TestCertificates;
  before(async () => {
    dir = await tempDir("asgi-tls");
    certificates = await makeCertificates(dir.path);
  });
  after(() => dir?.remove());

  it("serves over TLS with scope.scheme https, verified against the CA", async () => {
    await using handle = await start(
      textApp((scope) => `${scope.scheme} ${scope.path}`),
      {
        tls: { key: certificates.key, cert: certificates.cert },
      },
    );
    assert.match(handle.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const response = await httpsGet(`${handle.url}/secure`, certificates.ca);
    assert.deepEqual(response, { status: 200, body: "https /secure" });
    await assert.rejects(httpsGet(`${handle.url}/`, "")); // an untrusted certificate fails
  });
});
