import { createServer, IncomingMessage, ServerResponse } from 'node:http';

const port: number = Number(process.env.PORT) || 8080;

function greet(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(`hello from distill/node typescript (node ${process.version})\n`);
}

createServer(greet).listen(port, () => console.log(`listening on :${port}`));
