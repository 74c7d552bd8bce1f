/** Test helpers: a real certificate authority with server and client certificates, made with openssl. */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

/** A certificate and its private key, as PEM files. */
export interface CertFiles {
  cert: string;
  key: string;
}

/** A CA, a server certificate for 127.0.0.1/localhost, and a client certificate, all in `dir`. */
export interface TestPki {
  ca: string;
  server: CertFiles;
  client: CertFiles;
}

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

// P-256 keys: quick to make, and accepted by nats-server and Node alike.
function newKey(dir: string, name: string): string {
  openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${name}.key`], dir);
  return join(dir, `${name}.key`);
}

/** Makes a self-signed CA named `name` in `dir`. */
export function makeCa(dir: string, name: string): CertFiles {
  const key = newKey(dir, name);
  openssl(["req", "-x509", "-new", "-key", key, "-out", `${name}.pem`, "-days", "2", "-subj", `/CN=${name}`], dir);
  return { cert: join(dir, `${name}.pem`), key };
}

/** Issues a certificate signed by `ca`: a server one (SAN 127.0.0.1, localhost) or a client one. */
export function issue(dir: string, ca: CertFiles, name: string, usage: "server" | "client"): CertFiles {
  const key = newKey(dir, name);
  openssl(["req", "-new", "-key", key, "-out", `${name}.csr`, "-subj", `/CN=${name}`], dir);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(
    ext,
    usage === "server" ? "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n" : "extendedKeyUsage=clientAuth\n",
  );
  openssl(
    [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      ca.cert,
      "-CAkey",
      ca.key,
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      "-days",
      "2",
      "-extfile",
      ext,
    ],
    dir,
  );
  return { cert: join(dir, `${name}.pem`), key };
}

/** A CA with one server and one client certificate in `dir`. */
export function makePki(dir: string, prefix = "nfn-test"): TestPki {
  const ca = makeCa(dir, `${prefix}-ca`);
  return { ca: ca.cert, server: issue(dir, ca, `${prefix}-server`, "server"), client: issue(dir, ca, `${prefix}-client`, "client") };
}
