export default defineNitroConfig({ preset: "cloudflare_module", compatibilityDate: "2025-09-01", srcDir: "server" });
