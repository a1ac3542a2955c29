/**
 * imapflow with its default options, as a user would write it: `fetch()` for envelopes and
 * for sources (parsed by postal-mime), `download()` of the attachment part as a stream.
 */
import { ImapFlow } from "imapflow";
import PostalMime from "postal-mime";
import type { BenchClient } from "./types.js";

export const imapflow: BenchClient = {
  async prepare(scenario, target) {
    const client = new ImapFlow({
      host: target.host,
      port: target.port,
      secure: false,
      doSTARTTLS: false,
      auth: { user: target.user, pass: target.password },
      logger: false,
    });
    await client.connect();
    await client.mailboxOpen(target.mailbox);
    return {
      async run() {
        let messages = 0;
        let bytes = 0;
        if (scenario === "envelope") {
          for await (const message of client.fetch(
            "1:*",
            { uid: true, flags: true, envelope: true },
            { uid: true },
          )) {
            messages++;
            bytes += message.envelope?.subject?.length ?? 0;
          }
        } else if (scenario === "bodies") {
          for await (const message of client.fetch(
            "1:*",
            { uid: true, source: true },
            { uid: true },
          )) {
            if (!message.source) continue;
            const parsed = await PostalMime.parse(message.source);
            messages++;
            bytes += parsed.text?.length ?? 0;
          }
        } else {
          const download = await client.download("1", "2", { uid: true });
          if (!download.content) throw new Error("imapflow: attachment not found");
          for await (const chunk of download.content) bytes += (chunk as Buffer).length;
          messages = 1;
        }
        return { messages, bytes };
      },
      close: () => client.logout(),
    };
  },
};
