/**
 * SASL for the mail clients (SMTP AUTH, RFC 4954; IMAP AUTHENTICATE, RFC 9051 §6.2.2):
 * mechanisms, their selection and a protocol-neutral exchange driver.
 */
export { chooseMechanism } from "./choose.js";
export {
  type AuthenticateOptions,
  authenticate,
  runExchange,
  type SASLExchangeOptions,
  type SASLStep,
  type SASLTransport,
} from "./exchange.js";
export {
  cramMD5,
  login,
  type OAuthBearerTarget,
  oauthBearer,
  plain,
  xoauth2,
} from "./mechanisms.js";
export type {
  OAuth2Mechanism,
  OAuth2TokenProvider,
  PasswordMechanism,
  SASLCredentials,
  SASLMechanism,
  SASLMechanismName,
} from "./types.js";
