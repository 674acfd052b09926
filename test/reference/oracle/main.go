// Oracle for test/reference/fixtures/docker-oracle.jsonl: feeds JSON-encoded
// strings (one per line on stdin) to Docker's own parser and prints what it
// makes of each. Not part of the build or the test run; kept so the fixture
// can be regenerated and audited.
//
// Regenerate (needs Go and checkouts of github.com/distribution/reference
// v0.6.0 and github.com/opencontainers/go-digest v1.0.0):
//
//   go mod init oracle && go mod edit \
//     -require github.com/distribution/reference@v0.6.0 \
//     -require github.com/opencontainers/go-digest@v1.0.0
//   go build -o oracle .
//   node corpus.mjs > inputs.jsonl   # docker's test literals + curated + seeded random
//   ./oracle normalized < inputs.jsonl > named.jsonl
//   ./oracle any        < inputs.jsonl > any.jsonl
//   then merge the two line by line into the fixture's format (see parse.test.ts).
package main

import (
	"bufio"
	_ "crypto/sha256"
	_ "crypto/sha512"
	"encoding/json"
	"os"

	"github.com/distribution/reference"
)

type out struct {
	In       string `json:"in"`
	Err      string `json:"err,omitempty"`
	Kind     string `json:"kind,omitempty"`
	Domain   string `json:"domain,omitempty"`
	Path     string `json:"path,omitempty"`
	Tag      string `json:"tag,omitempty"`
	Digest   string `json:"digest,omitempty"`
	String   string `json:"string,omitempty"`
	Familiar string `json:"familiar,omitempty"`
	Docker   string `json:"docker,omitempty"`
}

func main() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	enc := json.NewEncoder(os.Stdout)
	mode := os.Args[1]
	for sc.Scan() {
		var in string
		if err := json.Unmarshal(sc.Bytes(), &in); err != nil {
			panic(err)
		}
		o := out{In: in}
		var r reference.Reference
		var err error
		if mode == "any" {
			r, err = reference.ParseAnyReference(in)
		} else {
			r, err = reference.ParseNormalizedNamed(in)
		}
		if err != nil {
			o.Err = err.Error()
		} else {
			o.String = r.String()
			if n, ok := r.(reference.Named); ok {
				o.Kind = "named"
				o.Domain = reference.Domain(n)
				o.Path = reference.Path(n)
				o.Familiar = reference.FamiliarString(n)
				o.Docker = reference.TagNameOnly(n).String()
			} else {
				o.Kind = "digest"
			}
			if t, ok := r.(reference.Tagged); ok {
				o.Tag = t.Tag()
			}
			if d, ok := r.(reference.Digested); ok {
				o.Digest = d.Digest().String()
			}
		}
		enc.Encode(o)
	}
}
