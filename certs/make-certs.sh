#!/usr/bin/env bash
# Makes a private CA and a serving certificate for ferry's admission webhook.
#
#   certs/make-certs.sh [OUT_DIR]          (default: certs/out/, which git ignores)
#
# Writes to OUT_DIR:
#   ca.crt ca.key        the CA (kept and reused on the next run, so the caBundle
#                        registered with the API server stays valid; delete both to
#                        make a new CA)
#   tls.crt tls.key      serving certificate + key, signed by the CA, always renewed
#   ca-bundle.b64        ca.crt in one-line base64: the webhook's clientConfig.caBundle
# and prints that caBundle on stdout (everything else goes to stderr).
# Keys are written with mode 0600 and must never be committed.
#
# Subject alternative names: the webhook Service's DNS names in every form the API
# server may use, plus localhost and 127.0.0.1 for running the webhook locally.
# Environment: FERRY_SERVICE (ferry-webhook), FERRY_NAMESPACE (ferry-system),
# FERRY_CLUSTER_DOMAIN (cluster.local), FERRY_EXTRA_SANS (e.g. "DNS:ferry.example.com,IP:10.0.0.5"),
# FERRY_CERT_DAYS (365), FERRY_CA_DAYS (3650).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:-"$here/out"}
service=${FERRY_SERVICE:-ferry-webhook}
namespace=${FERRY_NAMESPACE:-ferry-system}
domain=${FERRY_CLUSTER_DOMAIN:-cluster.local}
cert_days=${FERRY_CERT_DAYS:-365}
ca_days=${FERRY_CA_DAYS:-3650}

command -v openssl >/dev/null || { echo "make-certs: openssl is required" >&2; exit 1; }

sans="DNS:$service,DNS:$service.$namespace,DNS:$service.$namespace.svc,DNS:$service.$namespace.svc.$domain,DNS:localhost,IP:127.0.0.1"
if [[ -n "${FERRY_EXTRA_SANS:-}" ]]; then sans="$sans,$FERRY_EXTRA_SANS"; fi

umask 077
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

serial() { echo "0x$(openssl rand -hex 16)"; }

if [[ -s "$out/ca.crt" && -s "$out/ca.key" ]]; then
  echo "make-certs: reusing the CA in $out (delete ca.crt and ca.key for a new one)" >&2
else
  echo "make-certs: new CA in $out" >&2
  cat > "$tmp/ca.cnf" <<CNF
[req]
distinguished_name = dn
prompt = no
x509_extensions = v3_ca
[dn]
CN = ferry webhook CA
O = ferry
[v3_ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
CNF
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/ca.key"
  openssl req -x509 -new -sha256 -key "$tmp/ca.key" -days "$ca_days" -set_serial "$(serial)" \
    -config "$tmp/ca.cnf" -out "$tmp/ca.crt"
  mv "$tmp/ca.key" "$out/ca.key"
  mv "$tmp/ca.crt" "$out/ca.crt"
fi

cat > "$tmp/leaf.cnf" <<CNF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = $service.$namespace.svc
O = ferry
[v3_leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $sans
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/tls.key"
openssl req -new -sha256 -key "$tmp/tls.key" -config "$tmp/leaf.cnf" -out "$tmp/tls.csr"
openssl x509 -req -sha256 -in "$tmp/tls.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" \
  -set_serial "$(serial)" -days "$cert_days" -extfile "$tmp/leaf.cnf" -extensions v3_leaf \
  -out "$tmp/tls.crt" 2>"$tmp/x509.log" || { cat "$tmp/x509.log" >&2; exit 1; }
openssl verify -CAfile "$out/ca.crt" "$tmp/tls.crt" >/dev/null

mv "$tmp/tls.key" "$out/tls.key"
install -m 0644 "$tmp/tls.crt" "$out/tls.crt"
chmod 0644 "$out/ca.crt"
chmod 0600 "$out/ca.key" "$out/tls.key"
openssl base64 -A -in "$out/ca.crt" > "$out/ca-bundle.b64"
chmod 0644 "$out/ca-bundle.b64"

cat >&2 <<MSG
make-certs: wrote $out/{ca.crt,ca.key,tls.crt,tls.key,ca-bundle.b64}
make-certs: SANs $sans; valid $cert_days days
make-certs: caBundle (stdout; also in $out/ca-bundle.b64):
MSG
cat "$out/ca-bundle.b64"
echo
