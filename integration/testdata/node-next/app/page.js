export const dynamic = "force-dynamic";

export default function Page() {
  return <p>hello from distill/node next.js (rendered on {process.env.HOSTNAME ? "the server" : "?"})</p>;
}
