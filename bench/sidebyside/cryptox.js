export default { async fetch() {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", enc.encode("secret"), {name: "HMAC", hash: "SHA-256"}, true, ["sign", "verify"]);
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode("msg")));
  const jwk = await crypto.subtle.exportKey("jwk", key);
  const aes = await crypto.subtle.importKey("raw", new Uint8Array(16), "AES-GCM", false, ["encrypt"]);
  const ct = new Uint8Array(await crypto.subtle.encrypt({name: "AES-GCM", iv: new Uint8Array(12)}, aes, enc.encode("hello")));
  const d1 = new Uint8Array(await crypto.subtle.digest("SHA-1", enc.encode("x")));
  const pb = new Uint8Array(await crypto.subtle.deriveBits({name: "PBKDF2", hash: "SHA-256", salt: enc.encode("s"), iterations: 1000}, await crypto.subtle.importKey("raw", enc.encode("p"), "PBKDF2", false, ["deriveBits"]), 128));
  const hex = (b) => [...b].map(x => x.toString(16).padStart(2, "0")).join("");
  return Response.json({sig: hex(sig), jwk, ct: hex(ct), d1: hex(d1), pb: hex(pb), algo: key.algorithm, usages: key.usages, type: key.type, ext: key.extractable});
} }
