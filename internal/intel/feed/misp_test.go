package feed

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/vigil-soc/vigil/internal/golden"
	"github.com/vigil-soc/vigil/internal/intel"
	"github.com/vigil-soc/vigil/internal/shareddata"
)

// TestReadMISPEventPyMISP reads the PyMISP test event (BSD-2) in place: of
// its 5 to_ids attributes the md5, sha1 and sha256 become indicators, the
// filename and regkey|value become Problems naming their types.
func TestReadMISPEventPyMISP(t *testing.T) {
	t.Parallel()
	path := shareddata.Path(t, "intel/misp/57c4445b-c548-4654-af0b-4be3950d210f.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ins, probs, err := ReadMISPEvent(data, "event")
	if err != nil {
		t.Fatal(err)
	}
	checkIndicators(t, ins, probs)
	want := []string{"md5:0749bae92ca336a02c83d126e04ec628", "sha1:77b0c41b7d340b8a3d903f21347bbf06aa766b5b",
		"sha256:b3c4ae251f8094fa15b510051835c657eaef2a6cea46075d3aec964b14a99f68"}
	if got := values(ins); !slices.Equal(got, want) {
		t.Fatalf("indicators %q, want %q", got, want)
	}
	wantProbs := []string{
		`event: attribute 57c4448a-fb04-457d-87e7-4127950d210f: attribute type "filename" is not supported`,
		`event: attribute 57c54b0f-27a4-458b-8e63-4455950d210f: attribute type "regkey|value" is not supported`,
	}
	if len(probs) != len(wantProbs) {
		t.Fatalf("problems %v, want %q", probs, wantProbs)
	}
	for i, p := range probs {
		if p.String() != wantProbs[i] {
			t.Errorf("problem %q, want %q", p, wantProbs[i])
		}
	}
	md5 := ins[0]
	if md5.ID != "57c4448b-454c-4d17-90d1-4d2f950d210f" || md5.Threat != "Ransomware - Xorist" ||
		md5.Description != "Imported via the Freetext Import Tool" || !slices.Contains(md5.Tags, "tlp:white") ||
		len(md5.Tags) != 4 || md5.Confidence != -1 {
		t.Errorf("md5 indicator %+v", md5)
	}
}

func TestReadMISPEventGolden(t *testing.T) {
	t.Parallel()
	golden.CheckFiles(t, "testdata/misp-feed/*-*.json", func(t *testing.T, path string) []byte {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		ins, probs, err := ReadMISPEvent(data, filepath.Base(path))
		if err != nil {
			t.Fatal(err)
		}
		checkIndicators(t, ins, probs)
		return render(t, ins, probs)
	})
}

func TestReadMISPEventShapes(t *testing.T) {
	t.Parallel()
	attr := `{"type":"ip-dst","value":"192.0.2.1","to_ids":true,"uuid":"u1"}`
	tests := []struct {
		name, in string
		want     int
		wantErr  bool
	}{
		{name: "wrapped", in: `{"Event":{"info":"x","Attribute":[` + attr + `]}}`, want: 1},
		{name: "bare", in: `{"info":"x","Attribute":[` + attr + `]}`, want: 1},
		{name: "list", in: `[{"Event":{"Attribute":[` + attr + `]}},{"Event":{"Attribute":[` + attr + `]}}]`, want: 2},
		{name: "rest search", in: `{"response":[{"Event":{"Attribute":[` + attr + `]}}]}`, want: 1},
		{name: "string to_ids", in: `{"Event":{"Attribute":[{"type":"domain","value":"a.example","to_ids":"0"}]}}`},
		{name: "not misp", in: `{"hello":"world"}`, wantErr: true},
		{name: "not json", in: `<html>`, wantErr: true},
	}
	for _, tc := range tests {
		ins, _, err := ReadMISPEvent([]byte(tc.in), "t")
		if (err != nil) != tc.wantErr || len(ins) != tc.want {
			t.Errorf("%s: %d indicators, err %v; want %d, error %v", tc.name, len(ins), err, tc.want, tc.wantErr)
		}
	}
}

func TestMISPAttribute(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ, value string
		want       []string
		also       string
		wantErr    string
	}{
		{typ: "ip-src", value: "192.0.2.1", want: []string{"ip:192.0.2.1"}},
		{typ: "ip-dst", value: "2001:DB8::1", want: []string{"ip:2001:db8::1"}},
		{typ: "ip-dst|port", value: "192.0.2.1|443", want: []string{"ip:192.0.2.1"}, also: "destination.port=443"},
		{typ: "ip-src|port", value: "192.0.2.1|4444", want: []string{"ip:192.0.2.1"}, also: "source.port=4444"},
		{typ: "ip-dst|port", value: "[2001:db8::1]:8443", want: []string{"ip:2001:db8::1"}, also: "destination.port=8443"},
		{typ: "ip-dst|port", value: "192.0.2.1|https", wantErr: "not a port"},
		{typ: "domain", value: "Evil.Example.", want: []string{"domain:evil.example"}},
		{typ: "hostname", value: "www.evil.example", want: []string{"domain:www.evil.example"}},
		{typ: "domain|ip", value: "evil.example|192.0.2.9", want: []string{"domain:evil.example", "ip:192.0.2.9"}},
		{typ: "domain|ip", value: "evil.example", wantErr: "want domain|ip"},
		{typ: "url", value: "HTTP://Evil.Example/A", want: []string{"url:http://evil.example/A"}},
		{typ: "md5", value: "D41D8CD98F00B204E9800998ECF8427E", want: []string{"md5:d41d8cd98f00b204e9800998ecf8427e"}},
		{typ: "sha1", value: "da39a3ee5e6b4b0d3255bfef95601890afd80709",
			want: []string{"sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709"}},
		{typ: "filename|md5", value: "a|b.exe|d41d8cd98f00b204e9800998ecf8427e", wantErr: "want 32 hex"},
		{typ: "filename|md5", value: "a.exe|d41d8cd98f00b204e9800998ecf8427e",
			want: []string{"md5:d41d8cd98f00b204e9800998ecf8427e"}},
		{typ: "email-dst", value: "Victim@Example.org", want: []string{"email:victim@example.org"}},
		{typ: "ja3-fingerprint-md5", value: "e7d705a3286e19ea42f587b344ee6865",
			want: []string{"ja3:e7d705a3286e19ea42f587b344ee6865"}},
		{typ: "sha256", value: "abc", wantErr: "want 64 hex"},
		{typ: "mutex", value: "x", wantErr: `attribute type "mutex" is not supported`},
		{typ: "filename", value: "x.exe", wantErr: `attribute type "filename" is not supported`},
		{typ: "regkey", value: `HKLM\x`, wantErr: `attribute type "regkey" is not supported`},
	}
	for _, tc := range tests {
		ins, err := MISPAttribute(tc.typ, tc.value)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s %q: %v, %v; want error %q", tc.typ, tc.value, ins, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(values(ins), tc.want) {
			t.Errorf("%s %q: %q, %v; want %q", tc.typ, tc.value, values(ins), err, tc.want)
			continue
		}
		also := ""
		if len(ins[0].Also) > 0 {
			also = ins[0].Also[0].Field + "=" + ins[0].Also[0].Value
		}
		if also != tc.also {
			t.Errorf("%s %q: condition %q, want %q", tc.typ, tc.value, also, tc.also)
		}
	}
}

// copyFeed copies the test MISP feed into a fresh directory.
func copyFeed(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob("testdata/misp-feed/*.json")
	if err != nil || len(files) != 3 {
		t.Fatalf("feed files %v, %v", files, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// addEvent writes an event file (unless body is "") and lists it in the
// manifest of the feed in dir.
func addEvent(t *testing.T, dir, uuid, timestamp, body string) {
	t.Helper()
	if body != "" {
		if err := os.WriteFile(filepath.Join(dir, uuid+".json"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "manifest.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	entry := `"` + uuid + `": {"info": "added", "timestamp": ` + timestamp + `},`
	data = []byte(strings.Replace(string(data), "{", "{\n "+entry, 1))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestMISPFeedIncremental(t *testing.T) {
	t.Parallel()
	for _, overHTTP := range []bool{false, true} {
		name := map[bool]string{false: "directory", true: "url"}[overHTTP]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := copyFeed(t)
			var src intel.Source = &MISPFeed{Dir: dir, HTTP: &HTTP{}}
			if overHTTP {
				srv := httptest.NewServer(http.StripPrefix("/feed/", http.FileServer(http.Dir(dir))))
				t.Cleanup(srv.Close)
				var err error
				src, err = New(Config{Name: "misp", Kind: KindMISP, URL: srv.URL + "/feed/", Workers: 2},
					Options{Client: srv.Client()})
				if err != nil {
					t.Fatal(err)
				}
			}
			ctx := context.Background()
			b, err := src.Fetch(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			checkIndicators(t, b.Indicators, b.Problems)
			if !b.Full || b.Cursor != "1730546400" || len(b.Indicators) != 11 || len(b.Problems) != 5 {
				t.Fatalf("first fetch: full %v cursor %q, %d indicators %q, problems %v", b.Full, b.Cursor,
					len(b.Indicators), values(b.Indicators), b.Problems)
			}
			b2, err := src.Fetch(ctx, b.Cursor)
			if err != nil || b2.Full || b2.Cursor != b.Cursor || len(b2.Indicators)+len(b2.Problems) != 0 {
				t.Fatalf("unchanged fetch: %+v, %v", b2, err)
			}
			event := `{"Event":{"info":"third","Attribute":[{"type":"ip-dst","value":"203.0.113.99","to_ids":true}]}}`
			addEvent(t, dir, "5f0c6a1e-3333-4aaa-8bbb-000000000003", "1730600000", event)
			addEvent(t, dir, "5f0c6a1e-4444-4aaa-8bbb-000000000004", "1730700000", "") // file missing
			b3, err := src.Fetch(ctx, b2.Cursor)
			if err != nil {
				t.Fatal(err)
			}
			if b3.Full || !slices.Equal(values(b3.Indicators), []string{"ip:203.0.113.99"}) ||
				b3.Indicators[0].Threat != "third" || b3.Cursor != "1730600000" || len(b3.Problems) != 1 ||
				!strings.Contains(b3.Problems[0].Where, "5f0c6a1e-4444-4aaa-8bbb-000000000004.json") {
				t.Fatalf("incremental fetch: %+v", b3)
			}
		})
	}
}

func TestMISPFeedErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := &MISPFeed{Dir: dir, HTTP: &HTTP{}}
	if _, err := src.Fetch(context.Background(), ""); err == nil || !strings.Contains(err.Error(), "manifest") {
		t.Errorf("missing manifest: %v", err)
	}
	manifest := `{"../../etc/passwd": {"timestamp": 1}, "5f0c6a1e-1111-4aaa-8bbb-000000000001": {"timestamp": "x"},
		"5f0c6a1e-2222-4aaa-8bbb-000000000002": {"timestamp": "5"}}`
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "5f0c6a1e-2222-4aaa-8bbb-000000000002.json"), []byte("<html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := src.Fetch(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, p := range b.Problems {
		reasons = append(reasons, p.Reason)
	}
	sort.Strings(reasons)
	if len(b.Indicators) != 0 || b.Cursor != "5" || len(reasons) != 3 || !strings.HasPrefix(reasons[0], "bad manifest entry") ||
		!strings.Contains(reasons[1], "is not a uuid") || !strings.HasPrefix(reasons[2], "not a MISP event") {
		t.Errorf("batch %+v; reasons %q", b, reasons)
	}
	if _, err := src.Fetch(context.Background(), "yesterday"); err == nil {
		t.Error("a bad cursor was accepted")
	}
}

func FuzzReadMISPEvent(f *testing.F) {
	files, _ := filepath.Glob("testdata/misp-feed/*.json")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`[{"Event":{"Attribute":[{"type":"ip-dst|port","value":"1.2.3.4|80","to_ids":1}]}}]`))
	f.Add([]byte(`{"response":[{"Event":{"Object":[{"Attribute":[{"type":"domain|ip","value":"a.b|::1","to_ids":"1"}]}]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ins, probs, err := ReadMISPEvent(data, "fuzz")
		if err != nil && (len(ins) > 0 || len(probs) > 0) {
			t.Fatalf("error %v with results", err)
		}
		checkIndicators(t, ins, probs)
	})
}
