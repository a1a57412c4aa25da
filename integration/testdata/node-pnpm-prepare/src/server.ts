import { createServer } from "node:http";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ms = require("ms");

createServer((_req, res) => {
  res.end(`pnpm prepare OK (up ${ms(Math.round(process.uptime() * 1000))})\n`);
}).listen(Number(process.env.PORT) || 8080);
