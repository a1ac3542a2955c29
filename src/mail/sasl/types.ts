/** The names shared by the SASL mechanisms, their selection and the exchange driver. */

/** Mechanisms that prove a password. */
export type PasswordMechanism = "PLAIN" | "LOGIN" | "CRAM-MD5";

/** Mechanisms that present an OAuth 2.0 bearer token. */
export type OAuth2Mechanism = "XOAUTH2" | "OAUTHBEARER";

/** Every SASL mechanism the mail clients speak. */
export type SASLMechanismName = PasswordMechanism | OAuth2Mechanism;

/**
 * Supplies an OAuth2 access token. It is called with `refresh: false` first; after the server
 * rejects a token it is called once more with `refresh: true` and should return a new one.
 */
export type OAuth2TokenProvider = (options: { refresh: boolean }) => string | Promise<string>;

export type SASLCredentials =
  | {
      kind: "password";
      user: string;
      password: string;
      /** Forces a mechanism; by default `chooseMechanism` picks one. */
      mechanism?: SASLMechanismName;
    }
  | {
      kind: "oauth2";
      user: string;
      token: OAuth2TokenProvider;
      /** Forces a mechanism; by default XOAUTH2, else OAUTHBEARER. */
      mechanism?: OAuth2Mechanism;
    };

/**
 * The client side of one SASL exchange (RFC 4422 §3), in bytes: the protocol drivers do the
 * base64 framing (SMTP 334 / IMAP "+" continuations).
 */
export interface SASLMechanism {
  readonly name: SASLMechanismName;
  /**
   * The initial response (RFC 4422 §3.3), possibly empty; undefined for mechanisms in which
   * the server speaks first (LOGIN, CRAM-MD5).
   */
  readonly initialResponse: Uint8Array | undefined;
  /**
   * The answer to the server's next challenge, or undefined when the mechanism expects no
   * (further) challenge: the driver then cancels the exchange.
   */
  respond(challenge: Uint8Array): Uint8Array | undefined;
}
