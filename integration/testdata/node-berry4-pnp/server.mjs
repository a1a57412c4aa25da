// An ES module: under Plug'n'Play its imports resolve through .pnp.loader.mjs.
import fs from "node:fs";
import http from "node:http";
import ms from "ms";
import greet from "@fx/greet";

const port = process.env.PORT || 8080;
const built = fs.existsSync(new URL("./public/client.min.js", import.meta.url)) ? "build output present" : "build output MISSING";
http.createServer((req, res) => {
  res.end(`${greet("yarn 4 pnp")}: ms resolved (${ms("1m")}), ${built}\n`);
}).listen(port);
