/**
 * SHA-256 pin of a PEM certificate: lower-case hex over its DER bytes, as
 * `openssl x509 -noout -fingerprint -sha256` prints it without colons. The bundle carries the team
 * CA's pin; `parseBundle` (src/core, pure) takes this function to check it.
 */
import { X509Certificate } from 'node:crypto';

export function certificatePin(pem: string): string {
  return new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();
}
