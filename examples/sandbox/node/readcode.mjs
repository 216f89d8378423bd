// Prints the verification code the sandbox read out in its latest call to
// a number, read from the sandbox's inspection API, as a Node.js test
// suite would to complete a one-time-password flow (Node 18 or later):
//
//     node examples/sandbox/node/readcode.mjs +8613500000001
//
// SANDBOX_URL overrides the default http://127.0.0.1:8080.
const base = process.env.SANDBOX_URL ?? "http://127.0.0.1:8080";
const number = process.argv[2] ?? "+8613500000001";
const res = await fetch(`${base}/_sandbox/v1/calls?limit=1&number=${encodeURIComponent(number)}`);
const { calls } = await res.json();
if (calls.length === 0) {
  console.error(`no call to ${number}`);
  process.exit(1);
}
console.log(calls.at(-1).verifyCode);
