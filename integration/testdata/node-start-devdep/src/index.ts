import { createServer } from "node:http";

const greeting: string = "start devDependency OK (tsx)";
createServer((_req, res) => {
  res.end(greeting + "\n");
}).listen(Number(process.env.PORT) || 8080);
