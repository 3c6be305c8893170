export default { fetch() {
  const out = {};
  out.latin1 = new TextDecoder("latin1").decode(new Uint8Array([0xe9, 0x80]));
  out.enc = new TextDecoder("windows-1252").encoding;
  out.utf16 = new TextDecoder("utf-16le").decode(new Uint8Array([0x41, 0, 0x42, 0]));
  out.bom = new TextDecoder().decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x41]));
  out.repl = new TextDecoder().decode(new Uint8Array([0x41, 0xff, 0x42]));
  out.into = JSON.stringify(new TextEncoder().encodeInto("héllo", new Uint8Array(3)));
  try { out.btoa = btoa("é"); } catch (e) { out.btoa = e.name; }
  try { out.btoa2 = btoa("€"); } catch (e) { out.btoa2 = e.name; }
  out.atob = atob(" aGk= ");
  return Response.json(out);
} }
