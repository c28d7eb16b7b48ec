package feed

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/golden"
	"github.com/vigil-soc/vigil/internal/intel"
	"github.com/vigil-soc/vigil/internal/shareddata"
)

// TestCSVPresetsGolden reads each hand-written abuse.ch-format fixture
// with the preset its file is named after.
func TestCSVPresetsGolden(t *testing.T) {
	t.Parallel()
	golden.CheckFiles(t, "testdata/csv/*.csv", func(t *testing.T, path string) []byte {
		opts, err := Preset(strings.TrimSuffix(filepath.Base(path), ".csv"))
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		opts.Name = filepath.ToSlash(path)
		ins, probs, err := ReadCSV(f, opts)
		if err != nil {
			t.Fatal(err)
		}
		checkIndicators(t, ins, probs)
		return render(t, ins, probs)
	})
}

func TestCSVFeodoDetails(t *testing.T) {
	t.Parallel()
	opts, err := Preset(PresetFeodo)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("testdata/csv/feodo.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ins, probs, err := ReadCSV(f, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ip:192.0.2.10", "ip:198.51.100.7", "ip:2001:db8::5", "ip:203.0.113.12"}
	if got := values(ins); !slices.Equal(got, want) {
		t.Fatalf("indicators %q, want %q", got, want)
	}
	if len(probs) != 3 {
		t.Errorf("problems %v, want 3 (bad ip, bad port, bad time)", probs)
	}
	first := ins[0]
	if first.Threat != "QakBot" || !first.C2() || first.Also[0] != (intel.Condition{Field: PortField, Value: "443"}) ||
		!first.ValidFrom.Equal(time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("first indicator %+v", first)
	}
}

// TestCSVSlips reads Slips' own_malicious_iocs.csv and
// own_malicious_JA3.csv in place (GPL-2.0, not copied).
func TestCSVSlips(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, preset string
		want         map[string]int // indicator key -> confidence
		wantProbs    int
	}{
		{file: "own_malicious_iocs.csv", preset: PresetSlips, wantProbs: 4,
			want: map[string]int{"ip:23.253.126.58": 80, "domain:bncv00.no-ip.info": 100, "ip:54.192.46.116": 80,
				"domain:wheridomaintv.com": 80, "domain:facedomaintv.com": 80}},
		{file: "own_malicious_JA3.csv", preset: PresetSlipsJA3,
			want: map[string]int{"ja3:e7d705a3286e19ea42f587b344ee6865": 60, "ja3:6734f37431670b3ab4292b8f60f29984": 80}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			path := shareddata.Path(t, "intel/slips-ti-files/config/local_ti_files/"+tc.file)
			opts, err := Preset(tc.preset)
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			opts.Name = path
			ins, probs, err := ReadCSV(f, opts)
			if err != nil {
				t.Fatal(err)
			}
			checkIndicators(t, ins, probs)
			got := map[string]int{}
			for _, in := range ins {
				got[in.Key()] = in.Confidence
			}
			for k, conf := range tc.want {
				if c, ok := got[k]; !ok || c != conf {
					t.Errorf("%s: confidence %d (present %v), want %d", k, c, ok, conf)
				}
			}
			if len(probs) != tc.wantProbs {
				t.Errorf("problems %v, want %d", probs, tc.wantProbs)
			}
			for _, p := range probs {
				if !strings.Contains(p.Reason, "autonomous system") {
					t.Errorf("unexpected problem %s", p)
				}
			}
			if tc.preset == PresetSlips && (ins[0].Description != "Simda CC" || len(ins) != 10) {
				t.Errorf("got %d indicators, first %+v", len(ins), ins[0])
			}
		})
	}
}

func TestReadCSVMappings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		opts      CSVOptions
		in        string
		want      []string
		wantProbs []string
		wantErr   string
		check     func(t *testing.T, ins []intel.Indicator)
	}{
		{
			name: "header row with named columns and a type column",
			opts: CSVOptions{Header: HeaderRow, Columns: Columns{Value: "Indicator", Type: "kind", Confidence: "score",
				Tags: "labels", ValidUntil: "expires"}, TagSeparator: "|"},
			in: "kind,Indicator,score,labels,expires\nipv4-addr,192.0.2.1,75,c2|botnet,2030-01-01\n" +
				"domain-name,evil.example,high,,\nmutex,Global\\x,50,,\nurl,http://x.example/,101,,\n",
			want:      []string{"ip:192.0.2.1", "domain:evil.example"},
			wantProbs: []string{"t:4: unknown indicator type", "t:5: confidence \"101\""},
			check: func(t *testing.T, ins []intel.Indicator) {
				if ins[0].Confidence != 75 || !slices.Equal(ins[0].Tags, []string{"c2", "botnet"}) ||
					ins[0].ValidUntil.Year() != 2030 || ins[1].Confidence != 80 {
					t.Errorf("details %+v", ins)
				}
			},
		},
		{
			name: "semicolons, quotes and valid_for",
			opts: CSVOptions{Delimiter: ';', Comment: "//", Columns: Columns{Value: "2", Description: "1", LastSeen: "3"},
				ValidFor: 48 * time.Hour, Type: intel.TypeDomain},
			in:   "// comment\n\"a; quoted\";\"Evil.Example\";2024-01-01\nplain; \"sub.evil.example\";1704067200\n",
			want: []string{"domain:evil.example", "domain:sub.evil.example"},
			check: func(t *testing.T, ins []intel.Indicator) {
				day3 := time.Date(2024, 1, 3, 0, 0, 0, 0, time.UTC)
				if ins[0].Description != "a; quoted" || !ins[0].ValidUntil.Equal(day3) || !ins[1].ValidUntil.Equal(day3) {
					t.Errorf("details %+v", ins)
				}
			},
		},
		{
			name:      "short rows and a broken quote stay on their line",
			opts:      CSVOptions{Columns: Columns{Value: "1", Threat: "3"}},
			in:        "192.0.2.1\n\"192.0.2.2,x,Emotet\n192.0.2.3,x,\"Dridex\"\n",
			want:      []string{"ip:192.0.2.1", "ip:192.0.2.3"},
			wantProbs: []string{"t:2: cannot tell the indicator type of \"192.0.2.2,x,Emotet\""},
		},
		{
			name:    "header lacks a named column",
			opts:    CSVOptions{Header: HeaderRow, Columns: Columns{Value: "ioc"}},
			in:      "value,type\n192.0.2.1,ip\n",
			wantErr: `no column "ioc"`,
		},
		{
			name:    "named column without header",
			opts:    CSVOptions{Columns: Columns{Value: "ioc"}},
			in:      "192.0.2.1\n",
			wantErr: "no header",
		},
		{
			name:      "header comment absent: numbered columns still work",
			opts:      CSVOptions{Header: HeaderComment, Columns: Columns{Value: "1"}},
			in:        "192.0.2.1\n,\n",
			want:      []string{"ip:192.0.2.1"},
			wantProbs: []string{"t:2: empty value"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.opts.Name = "t"
			ins, probs, err := ReadCSV(strings.NewReader(tc.in), tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkIndicators(t, ins, probs)
			if got := values(ins); !slices.Equal(got, tc.want) {
				t.Fatalf("indicators %q, want %q", got, tc.want)
			}
			if len(probs) != len(tc.wantProbs) {
				t.Fatalf("problems %v, want %q", probs, tc.wantProbs)
			}
			for i, p := range probs {
				if w, r, _ := strings.Cut(tc.wantProbs[i], ": "); p.Where != w || !strings.Contains(p.Reason, r) {
					t.Errorf("problem %d = %q, want %q", i, p, tc.wantProbs[i])
				}
			}
			if tc.check != nil {
				tc.check(t, ins)
			}
		})
	}
}

func TestParseConfidence(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int{"info": 20, "Low": 40, " medium ": 60, "HIGH": 80, "critical": 100,
		"0": 0, "100": 100, "55": 55, "-1": -1, "101": -1, "x": -1, "": -1} {
		got, err := ParseConfidence(in)
		if got != want || (err == nil) != (want >= 0) {
			t.Errorf("ParseConfidence(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}

func FuzzReadCSV(f *testing.F) {
	for _, p := range []string{"testdata/csv/feodo.csv", "testdata/csv/urlhaus.csv", "testdata/csv/sslbl-ja3.csv"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data), uint8(0))
	}
	f.Add("kind,value\nip,192.0.2.1\n\"unterminated,x\n", uint8(5))
	f.Add("192.0.2.1, high, desc, ['a','b']\nAS1, low, x, y\n", uint8(3))
	presets := Presets()
	f.Fuzz(func(t *testing.T, data string, choice uint8) {
		var opts CSVOptions
		if int(choice) < len(presets) {
			var err error
			if opts, err = Preset(presets[choice]); err != nil {
				t.Fatal(err)
			}
		} else {
			opts = CSVOptions{Header: HeaderRow, Columns: Columns{Value: "value", Type: "kind", Port: "3",
				Confidence: "4", FirstSeen: "5", Tags: "6"}}
		}
		opts.Name = "fuzz"
		ins, probs, err := ReadCSV(strings.NewReader(data), opts)
		if err != nil && !strings.Contains(err.Error(), "column") {
			t.Fatalf("unexpected error %v", err)
		}
		checkIndicators(t, ins, probs)
	})
}
