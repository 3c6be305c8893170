// postal-mime, the parser Cloudflare's Email Workers docs use, on a message POSTed to the
// Worker: headers with encoded words in three charsets, a quoted-printable Latin-1 part,
// a base64 KOI8-R part and an attachment.
import PostalMime from 'postal-mime';

export default {
  async fetch(request) {
    const email = await PostalMime.parse(await request.arrayBuffer());
    return Response.json({
      subject: email.subject,
      from: email.from,
      to: email.to,
      text: email.text,
      html: email.html,
      attachments: email.attachments.map((a) => ({
        filename: a.filename,
        mimeType: a.mimeType,
        bytes: [...new Uint8Array(a.content)],
      })),
    });
  },
};
