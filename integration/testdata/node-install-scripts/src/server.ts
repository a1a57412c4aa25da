import { createServer } from "node:http";

const port = Number(process.env.PORT) || 8080;
createServer((_req, res) => {
  res.setHeader("content-type", "text/plain");
  res.end(`install scripts OK (compiled by postinstall, NODE_ENV=${process.env.NODE_ENV})\n`);
}).listen(port);
