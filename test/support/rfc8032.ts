// RFC 8032 §7.1 test vectors for Ed25519 (TEST 1 and TEST 2), checked in both Node and workerd.
import { toBase64Url } from "../../schema/signing.ts";

export const ED25519_VECTORS = [
  {
    secret: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    message: "",
    signature:
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
  },
  {
    secret: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
    message: "72",
    signature:
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
  },
];

export function hexBytes(hex: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array((hex.match(/../g) ?? []).map((h) => Number.parseInt(h, 16)));
}

export function hexOf(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Signs each vector's message with its secret through WebCrypto and returns the signatures as hex. */
export async function signVectors(): Promise<string[]> {
  const out = [];
  for (const v of ED25519_VECTORS) {
    const jwk = {
      kty: "OKP",
      crv: "Ed25519",
      d: toBase64Url(hexBytes(v.secret)),
      x: toBase64Url(hexBytes(v.publicKey)),
    };
    const key = await crypto.subtle.importKey("jwk", jwk, { name: "Ed25519" }, false, ["sign"]);
    out.push(hexOf(new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key, hexBytes(v.message)))));
  }
  return out;
}
