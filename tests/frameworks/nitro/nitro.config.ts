export default defineNitroConfig({
  preset: "cloudflare_module",
  compatibilityDate: "2025-09-01",
  srcDir: "server",
  // written into .output/public/_headers for the assets, and applied to the routes' answers
  routeRules: { "/robots.txt": { headers: { "cache-control": "public, max-age=3600" } } },
});
