package sigma

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/vigil-soc/vigil/internal/parse/winlog"
	"github.com/vigil-soc/vigil/internal/schema"
)

// The benchmark corpus: Windows events as Vigil receives them from
// Winlogbeat, generated deterministically from a seed. Most are everyday
// activity of a small Windows domain (Sysmon process creation, network,
// image load, process access, file, registry and DNS events; Security
// logons, logoffs, special privileges and process starts and ends), with
// the programs, command lines, parents, users, hashes and registry paths
// such a network shows. A few percent are attacker behaviour that SigmaHQ
// rules catch (encoded PowerShell, certutil downloads, comsvcs MiniDump,
// shadow copy deletion, whoami /priv, Mimikatz, hive dumps, LSASS access,
// Run keys, failed logon bursts). Every document goes through the real
// Winlogbeat mapper.

// winDoc is one generated Windows event before rendering.
type winDoc struct {
	channel, provider string
	eventID           int
	task              string
	at                time.Time
	host              string
	data              [][2]string // event data in the event's own order
	message           string      // header line of the rendered message
	explain           string      // explanatory text Windows appends
}

// corpusGen generates events.
type corpusGen struct {
	r      *rand.Rand
	at     time.Time
	record int
	hosts  []string
	users  []string
}

func newCorpusGen(seed uint64) *corpusGen {
	g := &corpusGen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		at: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}
	for i := range 24 {
		g.hosts = append(g.hosts, fmt.Sprintf("WS-%04d.corp.example.com", 1000+i*37))
	}
	g.hosts = append(g.hosts, "SRV-DC01.corp.example.com", "SRV-FS02.corp.example.com", "SRV-SQL01.corp.example.com")
	g.users = []string{"jsmith", "amartin", "lchen", "pgarcia", "mrossi", "kwilliams", "tnguyen", "sjohnson",
		"dmuller", "ebrown", "fkhan", "hsato", "ilopez", "jkim", "svc_backup", "svc_sql"}
	return g
}

// pick returns a random element.
func pick[T any](g *corpusGen, l []T) T { return l[g.r.IntN(len(l))] }

func (g *corpusGen) hexN(n int) string {
	b := make([]byte, (n+1)/2)
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return strings.ToUpper(hex.EncodeToString(b))[:n]
}

func (g *corpusGen) guid() string {
	return "{" + g.hexN(8) + "-" + g.hexN(4) + "-" + g.hexN(4) + "-" + g.hexN(4) + "-" + g.hexN(12) + "}"
}

func (g *corpusGen) pid() string { return fmt.Sprint(400 + g.r.IntN(16000)*4) }

func (g *corpusGen) ip() string {
	return fmt.Sprintf("10.20.%d.%d", g.r.IntN(8), 10+g.r.IntN(240))
}

// hashes returns the Sysmon Hashes value of a file, the same for the same
// path.
func hashes(path string) string {
	s := sha256.Sum256([]byte(strings.ToLower(path)))
	h := strings.ToUpper(hex.EncodeToString(s[:]))
	return "SHA1=" + h[:40] + ",MD5=" + h[8:40] + ",SHA256=" + h + ",IMPHASH=" + h[16:48]
}

// fill replaces the placeholders of a template.
func (g *corpusGen) fill(s, user string) string {
	for strings.Contains(s, "{") {
		i := strings.IndexByte(s, '{')
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		var v string
		switch s[i+1 : i+j] {
		case "user":
			v = user
		case "guid":
			v = g.guid()
		case "hex":
			v = strings.ToLower(g.hexN(16))
		case "n":
			v = fmt.Sprint(g.r.IntN(100000))
		case "pid":
			v = g.pid()
		case "doc":
			v = pick(g, []string{"Q3 report", "budget-2026", "minutes", "invoice_4471", "roadmap", "notes"})
		case "site":
			v = pick(g, benignDomains())
		default:
			v = strings.ToLower(s[i+1 : i+j]) // a literal brace pair stays as text
		}
		s = s[:i] + v + s[i+j+1:]
	}
	return s
}

// next advances the clock and returns a host.
func (g *corpusGen) next() (time.Time, string) {
	g.at = g.at.Add(time.Duration(1+g.r.IntN(40)) * time.Millisecond)
	return g.at, pick(g, g.hosts)
}

// encodedPS returns PowerShell's -EncodedCommand form of a script.
func encodedPS(script string) string {
	u := utf16.Encode([]rune(script))
	b := make([]byte, 0, 2*len(u))
	for _, c := range u {
		b = append(b, byte(c), byte(c>>8))
	}
	return base64.StdEncoding.EncodeToString(b)
}

// winlogbeat renders a document the way Winlogbeat 8 ships it.
func (g *corpusGen) winlogbeat(d *winDoc) []byte {
	g.record++
	data := map[string]string{}
	var msg strings.Builder
	msg.WriteString(d.message)
	for _, kv := range d.data {
		data[kv[0]] = kv[1]
		if d.provider == sysmonProvider {
			msg.WriteString("\n" + kv[0] + ": " + kv[1])
		} else {
			msg.WriteString("\n\t" + kv[0] + ":\t\t" + kv[1])
		}
	}
	if d.explain != "" {
		msg.WriteString("\n\n" + d.explain)
	}
	doc := map[string]any{
		"@timestamp": d.at.Format(time.RFC3339Nano),
		"agent":      map[string]any{"type": "winlogbeat", "version": "8.17.0"},
		"event": map[string]any{"code": fmt.Sprint(d.eventID), "kind": "event", "provider": d.provider,
			"action": d.task},
		"host":    map[string]any{"name": strings.SplitN(d.host, ".", 2)[0]},
		"log":     map[string]any{"level": "information"},
		"message": msg.String(),
		"winlog": map[string]any{
			"channel": d.channel, "computer_name": d.host, "event_data": data,
			"event_id": fmt.Sprint(d.eventID), "provider_name": d.provider, "record_id": fmt.Sprint(g.record),
			"task": d.task, "opcode": "Info", "api": "wineventlog",
			"process": map[string]any{"pid": 2000 + g.r.IntN(4000), "thread": map[string]any{"id": 3000 + g.r.IntN(9000)}},
			"user": map[string]any{"identifier": "S-1-5-18", "domain": "NT AUTHORITY", "name": "SYSTEM",
				"type": "Well Known Group"},
		},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err) // maps of strings always marshal
	}
	return b
}

// benchCorpus is the generated corpus: the events and which of them come
// from attacker templates.
type benchCorpus struct {
	events    []schema.Event
	malicious []bool
}

// attackShare is the share of attacker events in the corpus (per mille).
const attackShare = 20

// generateCorpus generates n events from seed and maps them.
func generateCorpus(t testing.TB, seed uint64, n int) *benchCorpus {
	t.Helper()
	g := newCorpusGen(seed)
	c := &benchCorpus{events: make([]schema.Event, n), malicious: make([]bool, n)}
	var m winlog.Mapper
	received := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i := 0; i < n; {
		attack := g.r.IntN(1000) < attackShare
		var docs []*winDoc
		if attack {
			docs = g.attack()
		} else {
			docs = []*winDoc{g.benign()}
		}
		for _, d := range docs {
			if i == n {
				break
			}
			if err := m.MapWinlogbeat(g.winlogbeat(d), received, &c.events[i]); err != nil {
				t.Fatalf("generated event %d (%d): %v", i, d.eventID, err)
			}
			c.malicious[i] = attack
			i++
		}
	}
	return c
}
