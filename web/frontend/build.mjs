// Bundles the web room and dashboards into web/static (served by the API at /app). Run by `make install`.
import { build } from "esbuild";
import { copyFile, mkdir } from "node:fs/promises";

const out = new URL("../static/", import.meta.url);
await mkdir(out, { recursive: true });
await build({
  entryPoints: [new URL("src/main.js", import.meta.url).pathname],
  bundle: true,
  minify: true,
  sourcemap: true,
  format: "esm",
  target: ["chrome110", "firefox110", "safari16"],
  outfile: new URL("app.js", out).pathname,
  logLevel: "warning",
});
for (const file of ["index.html", "app.css"]) {
  await copyFile(new URL(`src/${file}`, import.meta.url), new URL(file, out));
}
