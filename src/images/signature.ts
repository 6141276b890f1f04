/**
 * Checking and making the OpenPGP signature of an index (openpgp.js): `index.asc` is a clearsigned index,
 * verified against the repository's configured key; `vmkit image index --sign KEY` makes one.
 */
import * as openpgp from 'openpgp';
import { VmkitError } from '../errors.js';
import { assembleClearsigned, canonicalText, clearsignedBody, isClearsigned } from './clearsigned.js';

/** Reads a public key file (armoured or binary; a keyring's keys all count). */
export async function readPublicKeys(bytes: Uint8Array, file: string): Promise<openpgp.Key[]> {
  const text = Buffer.from(bytes).toString('latin1');
  try {
    return text.includes('-----BEGIN PGP') ? await openpgp.readKeys({ armoredKeys: Buffer.from(bytes).toString('utf8') }) : await openpgp.readKeys({ binaryKeys: bytes });
  } catch (e) {
    throw new VmkitError('InvalidArgument', `Cannot read the OpenPGP key ${file}: ${(e as Error).message}`, { cause: e, details: { file } });
  }
}

function signatureError(uri: string, why: string, details: Record<string, unknown> = {}): VmkitError {
  return new VmkitError('HostError', `The index ${uri} is refused: ${why} (--no-check-signature skips this check; only use it for a repository you trust)`, {
    details: { uri, reason: 'signature', ...details },
  });
}

/**
 * Verifies a clearsigned index against `keys` and returns its text as written in the file. Refuses an
 * unsigned index, a malformed one, one signed by another key (naming its key id) and one whose text does
 * not match its signature (tampered).
 */
export async function verifyIndex(text: string, keys: readonly openpgp.Key[], uri: string, keyFile: string): Promise<{ text: string; signer: string }> {
  if (!isClearsigned(text)) throw signatureError(uri, `it is not signed, but the repository names the key ${keyFile}`);
  const body = clearsignedBody(text);
  if (body === undefined) throw signatureError(uri, 'its OpenPGP armour is malformed');
  let message: openpgp.CleartextMessage;
  try {
    message = await openpgp.readCleartextMessage({ cleartextMessage: text });
  } catch (e) {
    throw signatureError(uri, `its signature cannot be read: ${(e as Error).message}`);
  }
  const signedBy = message.getSigningKeyIDs().map((k) => k.toHex());
  const ours = keys.flatMap((k) => k.getKeyIDs().map((id) => id.toHex()));
  if (!signedBy.some((id) => ours.includes(id))) {
    throw signatureError(uri, `it is signed by key id ${signedBy.join(', ') || '(none)'}, not by the configured key ${keyFile} (fingerprint ${keys.map((k) => k.getFingerprint().toUpperCase()).join(', ')})`, {
      signedBy,
      keyFile,
    });
  }
  let data: string;
  let signer: string;
  try {
    const r = await openpgp.verify({ message, verificationKeys: [...keys], expectSigned: true });
    data = r.data;
    const valid = r.signatures[0];
    await valid?.verified;
    signer = valid?.keyID.toHex() ?? '';
  } catch (e) {
    throw signatureError(uri, `its signature does not match its text (tampered or corrupt): ${(e as Error).message.replace(/^Error verifying signed message: /, '')}`);
  }
  // What is parsed is the file's own text; it must be what was signed (trailing blanks are outside a signature).
  if (canonicalText(body) !== canonicalText(data)) throw signatureError(uri, 'the signed text differs from the text in the file');
  return { text: body, signer };
}

/** Signs `text` (an index) with an unencrypted or passphrase-protected private key; returns `index.asc`. */
export async function clearsign(text: string, keyArmored: string, keyFile: string, passphrase?: string): Promise<string> {
  let key: openpgp.PrivateKey;
  try {
    key = await openpgp.readPrivateKey({ armoredKey: keyArmored });
    if (!key.isDecrypted()) {
      if (passphrase === undefined) throw new Error('the key is protected by a passphrase: set VMKIT_SIGN_PASSPHRASE');
      key = await openpgp.decryptKey({ privateKey: key, passphrase });
    }
  } catch (e) {
    throw new VmkitError('InvalidArgument', `Cannot use the signing key ${keyFile}: ${(e as Error).message}`, { cause: e, details: { file: keyFile } });
  }
  // openpgp.js writes the cleartext without trailing blanks; the signature covers exactly that, so the text is
  // written back as it is (a line of one space stays one), around openpgp.js's signature block.
  const signed = await openpgp.sign({ message: await openpgp.createCleartextMessage({ text }), signingKeys: key });
  const hash = /^Hash: (.+)$/m.exec(signed)?.[1] ?? 'SHA512';
  const out = assembleClearsigned(text, hash.trim(), signed);
  await verifyIndex(out, [key.toPublic()], 'the new index.asc', keyFile); // never publish what would be refused
  return out;
}

/** A new key pair (armoured), for tests and for users who have none: `vmkit image index --new-key`. */
export async function generateSigningKey(name: string, email: string): Promise<{ privateKey: string; publicKey: string; fingerprint: string }> {
  const { privateKey, publicKey } = await openpgp.generateKey({ userIDs: [{ name, email }], format: 'armored' });
  const fingerprint = (await openpgp.readKey({ armoredKey: publicKey })).getFingerprint().toUpperCase();
  return { privateKey, publicKey, fingerprint };
}
