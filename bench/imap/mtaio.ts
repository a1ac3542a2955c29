/**
 * mtaio's AsyncIMAPClient in the IMAP benchmark, written as a user would: `streamMessages()`
 * for envelopes, `fetchMessages()` for parsed bodies, `downloadPart()` for the attachment.
 * It runs the published build (dist/, which run.ts builds first), as users do: tsx's
 * transform of src/ adds per-closure work that the compiled package does not have.
 */
import { AsyncIMAPClient } from "../../dist/mail/index.js";
import type { BenchClient } from "./types.js";

export const mtaio: BenchClient = {
  async prepare(scenario, target) {
    const client = new AsyncIMAPClient();
    await client.connect(target.host, target.port, { security: "none", allowPlaintextAuth: true });
    await client.login(target.user, target.password);
    await client.selectMailbox(target.mailbox);
    return {
      async run() {
        let messages = 0;
        let bytes = 0;
        if (scenario === "envelope") {
          for await (const message of client.streamMessages({ internalDate: false, size: false })) {
            messages++;
            bytes += message.envelope?.subject?.length ?? 0;
          }
        } else if (scenario === "bodies") {
          for (const message of await client.fetchMessages()) {
            messages++;
            bytes += message.textContent?.length ?? 0;
          }
        } else {
          const download = await client.downloadPart(1, "2");
          for await (const chunk of download) bytes += (chunk as Uint8Array).length;
          messages = 1;
        }
        return { messages, bytes };
      },
      close: () => client.close(),
    };
  },
};
