package ecsjson

import (
	"testing"

	"github.com/vigil-soc/vigil/internal/schema"
)

// filebeatEvent is a ~500-byte Filebeat 8 filestream event.
const filebeatEvent = `{"@timestamp":"2026-11-20T10:00:00.123Z","log":{"offset":1234,"file":{"path":"/var/log/nginx/access.log"}},"message":"192.0.2.10 - - [20/Nov/2026:10:00:00 +0000] \"GET /index.html HTTP/1.1\" 200 612 \"-\" \"curl/8.5.0\"","input":{"type":"filestream"},"ecs":{"version":"8.0.0"},"host":{"name":"web01","hostname":"web01","architecture":"x86_64","os":{"family":"debian","type":"linux"},"ip":["10.0.0.5","fe80::5054:ff:fe12:3456"]},"agent":{"id":"5e1f2a3b-4c5d-6e7f-8a9b-0c1d2e3f4a5b","name":"web01","type":"filebeat","version":"8.15.0"},"event":{"dataset":"nginx.access","category":["web"]}}`

// BenchmarkMapFilebeat maps a Filebeat-shaped event with a reused Mapper.
func BenchmarkMapFilebeat(b *testing.B) {
	rec := []byte(filebeatEvent)
	var m Mapper
	var ev schema.Event
	b.ReportAllocs()
	b.SetBytes(int64(len(rec)))
	for b.Loop() {
		if err := m.Map(rec, schema.InputBulk, received, &ev); err != nil {
			b.Fatal(err)
		}
	}
}
