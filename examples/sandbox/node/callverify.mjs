// Places a voice verification call on the sandbox the way Huawei's pages
// describe it (X-AKSK: PasswordDigest = Base64(HMAC-SHA256(APP_Secret,
// Nonce + Created)), Created in UTC), with Node 18 or later and nothing
// else, and prints the platform's answer:
//
//     node examples/sandbox/node/callverify.mjs +8613500000001 1234
//
// SANDBOX_URL, APP_KEY and APP_SECRET override the defaults.
import { createHmac, randomBytes } from "node:crypto";

const base = process.env.SANDBOX_URL ?? "http://127.0.0.1:8080";
const appKey = process.env.APP_KEY ?? "voicetestAppKey0000000000001";
const appSecret = process.env.APP_SECRET ?? "voicetestAppSecret0000000001";
const [callee = "+8613500000001", code = "1234"] = process.argv.slice(2);

const nonce = randomBytes(16).toString("hex");
const created = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
const digest = createHmac("sha256", appSecret).update(nonce + created).digest("base64");
const res = await fetch(`${base}/rest/httpsessions/callVerify/v1.0`, {
  method: "POST",
  headers: {
    "Content-Type": "application/json;charset=UTF-8",
    Authorization: 'AKSK realm="SDP",profile="UsernameToken",type="Appkey"',
    "X-AKSK": `UsernameToken Username="${appKey}",PasswordDigest="${digest}",Nonce="${nonce}",Created="${created}"`,
  },
  body: JSON.stringify({
    displayNbr: "+8653159511234", calleeNbr: callee, languageType: 2,
    preTone: "test.wav", verifyCode: code,
  }),
});
console.log(await res.text());
