// A browser script the build step minifies into public/client.min.js.
function hello(name) {
  const message = "hello, " + name;
  console.log(message);
  return message;
}
hello("visitor");
