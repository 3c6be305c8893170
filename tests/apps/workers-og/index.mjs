// Open Graph images made in a Worker with workers-og, as its docs show: HTML to satori's layout
// (yoga, WebAssembly) to an SVG, and to a PNG by resvg (WebAssembly); the two .wasm files come
// from the package and are uploaded beside the bundle. The font is fetched, as from Google
// Fonts in the docs, here from FONT_URL.
import { ImageResponse } from 'workers-og';

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const title = url.searchParams.get('title') ?? 'Hello';
    const font = await (await fetch(env.FONT_URL)).arrayBuffer();
    const html = `
      <div style="display: flex; width: 600px; height: 315px; background: #0b3d91; color: white;
                  align-items: center; justify-content: center; font-size: 64px;">
        ${title}
      </div>`;
    return new ImageResponse(html, {
      width: 600,
      height: 315,
      format: url.searchParams.get('format') ?? 'png',
      fonts: [{ name: 'Inter', data: font, weight: 400, style: 'normal' }],
    });
  },
};
