package stix

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-soc/vigil/internal/golden"
	"github.com/vigil-soc/vigil/internal/intel"
)

// render prints an indicator as "type value [field=value ...]".
func render(in intel.Indicator) string {
	s := string(in.Type) + " " + in.Value
	if len(in.Also) > 0 {
		conds := make([]string, len(in.Also))
		for i, c := range in.Also {
			conds[i] = c.Field + "=" + c.Value
		}
		s += " [" + strings.Join(conds, " ") + "]"
	}
	return s
}

func renderAll(ins []intel.Indicator) []string {
	out := make([]string, len(ins))
	for i, in := range ins {
		out[i] = render(in)
	}
	return out
}

// TestPatternSupported checks the patterns that compile into indicators.
func TestPatternSupported(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     []string
	}{
		{"ipv4", "[ipv4-addr:value = '198.51.100.1']", []string{"ip 198.51.100.1"}},
		{"ipv4 cidr", "[ipv4-addr:value = '198.51.100.7/24']", []string{"ip 198.51.100.0/24"}},
		{"ipv4 /32", "[ipv4-addr:value = '198.51.100.7/32']", []string{"ip 198.51.100.7"}},
		{"ipv4 issubset", "[ipv4-addr:value ISSUBSET '198.51.100.0/24']", []string{"ip 198.51.100.0/24"}},
		{"ipv6", "[ipv6-addr:value = '2001:DB8:0::1']", []string{"ip 2001:db8::1"}},
		{"ipv6 issubset", "[ipv6-addr:value ISSUBSET '2001:db8::/32']", []string{"ip 2001:db8::/32"}},
		{"domain", "[domain-name:value = 'Evil.Example.COM.']", []string{"domain evil.example.com"}},
		{"domain like parent", "[domain-name:value LIKE '%.Example.com']", []string{"domain example.com"}},
		{"domain like exact", "[domain-name:value LIKE 'exact.example']", []string{"domain exact.example"}},
		{"url", "[url:value = 'HTTPS://Example.COM:443/Path?Q=A#frag']", []string{"url https://example.com/Path?Q=A"}},
		{"md5 upper key", "[file:hashes.MD5 = 'CEAD3F77F6CDA6EC00F57D76C9A6879F']",
			[]string{"md5 cead3f77f6cda6ec00f57d76c9a6879f"}},
		{"md5 lower key", "[file:hashes.md5 = 'cead3f77f6cda6ec00f57d76c9a6879f']",
			[]string{"md5 cead3f77f6cda6ec00f57d76c9a6879f"}},
		{"sha1", "[file:hashes.'SHA-1' = '2aae6c35c94fcfb415dbe95f408b9ce91ee846ed']",
			[]string{"sha1 2aae6c35c94fcfb415dbe95f408b9ce91ee846ed"}},
		{"sha1 bare", "[file:hashes.sha1 = '2aae6c35c94fcfb415dbe95f408b9ce91ee846ed']",
			[]string{"sha1 2aae6c35c94fcfb415dbe95f408b9ce91ee846ed"}},
		{"sha256", "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
			[]string{"sha256 aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"}},
		{"sha256 lower unquoted", "[file:hashes.sha256 = 'AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F']",
			[]string{"sha256 aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"}},
		{"sha512", "[file:hashes.'SHA-512' = '" + strings.Repeat("ab", 64) + "']", []string{"sha512 " + strings.Repeat("ab", 64)}},
		{"email addr", "[email-addr:value = 'Alice@Example.COM']", []string{"email alice@example.com"}},
		{"email from", "[email-message:from_ref.value = 'Bob <Bob@Example.org>']", []string{"email bob@example.org"}},
		{"email sender with subject", "[email-message:sender_ref.value = 'jdoe@example.com' AND email-message:subject = 'Conference Info']",
			[]string{"email jdoe@example.com [email.subject=Conference Info]"}},
		{"traffic dst ip", "[network-traffic:dst_ref.value = '203.0.113.5']", []string{"ip 203.0.113.5"}},
		{"traffic src domain", "[network-traffic:src_ref.value = 'C2.Example.net']", []string{"domain c2.example.net"}},
		{"traffic dst cidr issubset", "[network-traffic:dst_ref.value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']",
			[]string{"ip 2001:db8:dead:beef::/64"}},
		{"traffic dst like", "[network-traffic:dst_ref.value LIKE '%.bad.example']", []string{"domain bad.example"}},
		{"traffic port and transport",
			"[network-traffic:dst_ref.value = 'x.example' AND network-traffic:dst_port = 443 AND network-traffic:protocols[*] = 'TCP']",
			[]string{"domain x.example [destination.port=443 network.transport=tcp]"}},
		{"traffic src port", "[network-traffic:src_ref.value = '192.0.2.1' AND network-traffic:src_port = 0]",
			[]string{"ip 192.0.2.1 [source.port=0]"}},
		{"traffic app protocol and type",
			"[network-traffic:dst_ref.value = '192.0.2.1' AND network-traffic:protocols[*] = 'http' AND network-traffic:protocols[*] = 'ipv4']",
			[]string{"ip 192.0.2.1 [network.protocol=http network.type=ipv4]"}},
		{"traffic ref type check", "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.33/32']",
			[]string{"ip 203.0.113.33"}},
		{"traffic ref type domain", "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'example.com']",
			[]string{"domain example.com"}},
		{"ja3", "[network-traffic:extensions.'tls-ext'.ja3 = 'E7D705A3286E19EA42F587B344EE6865']",
			[]string{"ja3 e7d705a3286e19ea42f587b344ee6865"}},
		{"ja4", "[network-traffic:x_ja4 = 't13d1516h2_8daaf6152771_d8a2da3f94cd']",
			[]string{"ja4 t13d1516h2_8daaf6152771_d8a2da3f94cd"}},
		{"or inside", "[ipv4-addr:value = '192.0.2.1' OR domain-name:value = 'a.example']",
			[]string{"ip 192.0.2.1", "domain a.example"}},
		{"or between", "[ipv4-addr:value = '192.0.2.1'] OR [url:value = 'http://a.example/x']",
			[]string{"ip 192.0.2.1", "url http://a.example/x"}},
		{"in", "[ipv4-addr:value IN ('192.0.2.1', '192.0.2.2', '192.0.2.0/28')]",
			[]string{"ip 192.0.2.1", "ip 192.0.2.2", "ip 192.0.2.0/28"}},
		{"in times in",
			"[network-traffic:dst_ref.value IN ('a.example', '192.0.2.1') AND network-traffic:dst_port IN (80, 443)]",
			[]string{"domain a.example [destination.port=80]", "domain a.example [destination.port=443]",
				"ip 192.0.2.1 [destination.port=80]", "ip 192.0.2.1 [destination.port=443]"}},
		{"and over or",
			"[network-traffic:dst_ref.value = '192.0.2.1' AND (network-traffic:dst_port = 80 OR network-traffic:dst_port = 443)]",
			[]string{"ip 192.0.2.1 [destination.port=80]", "ip 192.0.2.1 [destination.port=443]"}},
		{"hashes of one file",
			"[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f' AND file:hashes.'SHA-1' = '2aae6c35c94fcfb415dbe95f408b9ce91ee846ed']",
			[]string{"md5 cead3f77f6cda6ec00f57d76c9a6879f", "sha1 2aae6c35c94fcfb415dbe95f408b9ce91ee846ed"}},
		{"hash with name and size",
			"[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f' AND file:name = 'a.exe' AND file:size = 1024]",
			[]string{"md5 cead3f77f6cda6ec00f57d76c9a6879f [file.name=a.exe file.size=1024]"}},
		{"hash with mime type",
			"[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' AND file:mime_type = 'application/x-pdf']",
			[]string{"sha256 aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f [file.mime_type=application/x-pdf]"}},
		{"duplicates dropped", "[ipv4-addr:value = '192.0.2.1'] OR [ipv4-addr:value = '192.0.2.1/32' OR ipv4-addr:value = '192.0.2.1']",
			[]string{"ip 192.0.2.1"}},
		{"same value anded", "[ipv4-addr:value = '192.0.2.1' AND ipv4-addr:value = '192.0.2.1']", []string{"ip 192.0.2.1"}},
		{"same condition twice", "[network-traffic:dst_ref.value = 'a.example' AND network-traffic:dst_port = 53 AND network-traffic:dst_port = 53]",
			[]string{"domain a.example [destination.port=53]"}},
		{"empty in matches nothing", "[ipv4-addr:value IN ()]", []string{}},
		{"quoted value key", "[ipv4-addr:'value' = '192.0.2.1']", []string{"ip 192.0.2.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ins, err := Pattern(tt.in)
			if err != nil {
				t.Fatalf("Pattern(%q): %v", tt.in, err)
			}
			if got := renderAll(ins); !slices.Equal(got, tt.want) {
				t.Errorf("Pattern(%q) = %q, want %q", tt.in, got, tt.want)
			}
			for _, in := range ins {
				if in.Confidence != -1 || in.ID != "" || in.Threat != "" {
					t.Errorf("Pattern(%q) set fields beyond the observable: %+v", tt.in, in)
				}
			}
		})
	}
}

// TestPatternUnsupported checks that what cannot be matched is reported
// by construct and column, with the indicators of other alternatives.
func TestPatternUnsupported(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in   string
		constructs []string // "name@column"
		want       []string // indicators compiled beside the error
	}{
		{"followedby", "[ipv4-addr:value = '192.0.2.1'] FOLLOWEDBY [domain-name:value = 'a.example']", []string{"FOLLOWEDBY@33"}, nil},
		{"and between observations", "[ipv4-addr:value = '192.0.2.1'] AND [domain-name:value = 'a.example']",
			[]string{"AND between observations@33"}, nil},
		{"within", "[ipv4-addr:value = '192.0.2.1'] WITHIN 5 SECONDS", []string{"WITHIN qualifier@33"}, nil},
		{"repeats", "[ipv4-addr:value = '192.0.2.1'] REPEATS 5 TIMES", []string{"REPEATS qualifier@33"}, nil},
		{"start stop", "[ipv4-addr:value = '192.0.2.1'] START t'2020-01-01T00:00:00Z' STOP t'2021-01-01T00:00:00Z'",
			[]string{"START/STOP qualifier@33"}, nil},
		{"matches", "[email-message:subject MATCHES '^x']", []string{"MATCHES@2"}, nil},
		{"not equal", "[ipv4-addr:value != '192.0.2.1']", []string{"!=@2"}, nil},
		{"less", "[network-traffic:dst_port < 1024]", []string{"<@2"}, nil},
		{"greater equal", "[file:size >= 10]", []string{">=@2"}, nil},
		{"issuperset", "[ipv4-addr:value ISSUPERSET '192.0.2.1']", []string{"ISSUPERSET@2"}, nil},
		{"exists", "[EXISTS ipv4-addr:value]", []string{"EXISTS@2"}, nil},
		{"not exists", "[NOT EXISTS ipv4-addr:value]", []string{"NOT EXISTS@2"}, nil},
		{"negated equal", "[ipv4-addr:value NOT = '192.0.2.1']", []string{"NOT =@2"}, nil},
		{"negated in", "[ipv4-addr:value NOT IN ('192.0.2.1')]", []string{"NOT IN@2"}, nil},
		{"like infix", "[domain-name:value LIKE '%evil%']", []string{"LIKE '%evil%'@2"}, nil},
		{"like on url", "[url:value LIKE 'http://a.example/%']", []string{"LIKE on url:value@2"}, nil},
		{"issubset on domain", "[domain-name:value ISSUBSET 'a.example']", []string{"ISSUBSET on domain-name:value@2"}, nil},
		{"across objects", "[ipv4-addr:value = '192.0.2.1' AND domain-name:value = 'a.example']", []string{"AND across objects@36"}, nil},
		{"two values", "[domain-name:value = 'a.example' AND domain-name:value = 'b.example']", []string{"AND of two values@38"}, nil},
		{"two traffic addresses",
			"[network-traffic:dst_ref.value = '192.0.2.1' AND network-traffic:src_ref.value = '192.0.2.2']",
			[]string{"AND of two values@50"}, nil},
		{"condition alone", "[network-traffic:dst_port = 443]", []string{"property network-traffic:dst_port@2"}, nil},
		{"file name alone", "[file:name = 'CBricksDoc']", []string{"property file:name@2"}, nil},
		{"unknown object", "[process:name = 'evil.exe']", []string{"object type process@2"}, nil},
		{"x509", "[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = '4c:0b']",
			[]string{"object type x509-certificate@2"}, nil},
		{"unknown property", "[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f' AND file:created = 'x']",
			[]string{"property file:created@59"}, nil},
		{"unknown hash", "[file:hashes.SSDEEP = '3:a:b']", []string{"property file:hashes.SSDEEP@2"}, nil},
		{"positional protocol", "[network-traffic:dst_ref.value = '192.0.2.1' AND network-traffic:protocols[0] = 'tcp']",
			[]string{"property network-traffic:protocols[0]@50"}, nil},
		{"invalid ip", "[ipv4-addr:value = 'not-an-ip']", []string{"invalid value@20"}, nil},
		{"family mismatch", "[ipv4-addr:value = '2001:db8::1']", []string{"invalid value@20"}, nil},
		{"url without host", "[url:value = '.']", []string{"invalid value@14"}, nil},
		{"unstable domain", "[domain-name:value = '*.*.a.example']", []string{"invalid value@22"}, nil},
		{"short hash", "[file:hashes.'SHA-256' = 'f00']", []string{"invalid value@26"}, nil},
		{"hash not string", "[file:hashes.MD5 = 5]", []string{"invalid value@20"}, nil},
		{"port out of range", "[network-traffic:dst_ref.value = '192.0.2.1' AND network-traffic:dst_port = 70000]",
			[]string{"invalid value@77"}, nil},
		{"port as string", "[network-traffic:dst_ref.value = '192.0.2.1' AND network-traffic:dst_port = '443']",
			[]string{"invalid value@77"}, nil},
		{"conflicting ports", "[network-traffic:dst_ref.value = '192.0.2.1' AND network-traffic:dst_port = 80 AND network-traffic:dst_port = 443]",
			[]string{"conflicting conditions@84"}, nil},
		{"conflicting ref type", "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = '192.0.2.1']",
			[]string{"conflicting conditions@2"}, nil},
		{"ref type other side", "[network-traffic:src_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '192.0.2.1']",
			[]string{"condition src_ref.type@2"}, nil},
		{"partial", "[ipv4-addr:value = '192.0.2.1' OR process:name = 'x.exe'] OR [domain-name:value = 'bad name']",
			[]string{"object type process@35", "invalid value@83"}, []string{"ip 192.0.2.1"}},
		{"column in characters", "[domain-name:value = 'bücher.example'] OR [process:name = 'x']",
			[]string{"object type process@44"}, []string{"domain bücher.example"}},
		{"same construct reported once", "[process:name = 'a' OR process:name = 'b']", []string{"object type process@2"}, nil},
		{"too many alternatives",
			"[network-traffic:dst_ref.value IN (" + numbers(100) + ") AND network-traffic:dst_port IN (" + numbers(100) +
				") AND network-traffic:src_port IN (" + numbers(100) + ")]",
			[]string{"observation@1"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ins, err := Pattern(tt.in)
			var u *Unsupported
			if !errors.As(err, &u) {
				t.Fatalf("Pattern(%q) = %v, %v; want an *Unsupported error", tt.in, renderAll(ins), err)
			}
			got := make([]string, len(u.Constructs))
			for i, c := range u.Constructs {
				got[i] = fmt.Sprintf("%s@%d", c.Name, c.Column)
				if c.Reason == "" {
					t.Errorf("construct %s has no reason", c.Name)
				}
			}
			if !slices.Equal(got, tt.constructs) {
				t.Errorf("Pattern(%q) unsupported = %q, want %q (%v)", tt.in, got, tt.constructs, err)
			}
			if gotIns := renderAll(ins); !slices.Equal(gotIns, tt.want) {
				t.Errorf("Pattern(%q) indicators = %q, want %q", tt.in, gotIns, tt.want)
			}
			if u.Partial != (len(tt.want) > 0) || !strings.Contains(err.Error(), tt.constructs[0][:strings.LastIndex(tt.constructs[0], "@")]) {
				t.Errorf("Pattern(%q): Partial = %v, error %q", tt.in, u.Partial, err)
			}
		})
	}
}

// TestPatternManyUnsupported checks that a pattern with very many bad
// alternatives lists a bounded number of them and counts the rest.
func TestPatternManyUnsupported(t *testing.T) {
	t.Parallel()
	alts := make([]string, 5000)
	for i := range alts {
		alts[i] = fmt.Sprintf("ipv4-addr:value = 'bad%d'", i)
	}
	ins, err := Pattern("[ipv4-addr:value = '192.0.2.1' OR " + strings.Join(alts, " OR ") + "]")
	var u *Unsupported
	if !errors.As(err, &u) || len(u.Constructs) != maxConstructs || u.More != 5000-maxConstructs || !u.Partial ||
		len(ins) != 1 || !strings.HasSuffix(err.Error(), "; and 4980 more (the other alternatives were compiled)") {
		t.Fatalf("Pattern = %v, %v", renderAll(ins), err)
	}
}

// numbers returns "1, 2, ..., n" as pattern integers.
func numbers(n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprint(i + 1)
	}
	return strings.Join(s, ", ")
}

// TestPatternSyntaxError checks that Pattern wraps the parser's error.
func TestPatternSyntaxError(t *testing.T) {
	t.Parallel()
	_, err := Pattern("[ipv4-addr:value = '192.0.2.1'")
	var se *SyntaxError
	if !errors.As(err, &se) || se.Column != 31 || !strings.HasPrefix(err.Error(), "invalid STIX pattern: column 31:") {
		t.Fatalf("err = %v", err)
	}
}

// TestSpecExamples parses and compiles the patterns of the STIX 2.1
// specification and compares the outcome with a golden file.
func TestSpecExamples(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "oasis", "spec_examples.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		fmt.Fprintf(&b, "pattern:   %s\n", line)
		ast, err := Parse(line)
		if err != nil {
			t.Errorf("spec example %q does not parse: %v", line, err)
			continue
		}
		fmt.Fprintf(&b, "canonical: %s\n", ast)
		ins, err := ast.Indicators()
		for _, in := range ins {
			fmt.Fprintf(&b, "indicator: %s\n", render(in))
		}
		if err != nil {
			fmt.Fprintf(&b, "error:     %v\n", err)
		}
		b.WriteString("\n")
	}
	golden.Check(t, filepath.Join("testdata", "golden", "spec_examples.golden"), []byte(b.String()))
}
