package feed

import (
	"bytes"
	"fmt"
	"testing"
)

// benchList builds a list of n lines mixing IPs, CIDRs, domains and URLs.
func benchList(n int) []byte {
	var buf bytes.Buffer
	buf.WriteString("# benchmark list\n")
	for i := range n {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&buf, "10.%d.%d.%d\n", i>>16&255, i>>8&255, i&255)
		case 1:
			fmt.Fprintf(&buf, "172.%d.%d.0/24\n", 16+i>>16&15, i>>8&255)
		case 2:
			fmt.Fprintf(&buf, "host%d.evil%d.example\n", i, i%97)
		case 3:
			fmt.Fprintf(&buf, "http://evil%d.example/path/%d?q=%d\n", i%97, i, i)
		}
	}
	return buf.Bytes()
}

func BenchmarkReadList(b *testing.B) {
	data := benchList(100000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		ins, probs, err := ReadList(bytes.NewReader(data), ListOptions{Name: "bench"})
		if err != nil || len(ins) != 100000 || len(probs) != 0 {
			b.Fatalf("%d indicators, %d problems, %v", len(ins), len(probs), err)
		}
	}
}

func BenchmarkReadCSVURLhaus(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n")
	for i := range 100000 {
		fmt.Fprintf(&buf, "\"%d\",\"2024-11-20 10:11:12\",\"http://192.0.2.%d:%d/bins/x%d\",\"online\","+
			"\"2024-11-20 10:11:12\",\"malware_download\",\"elf,mips,Mozi\",\"https://urlhaus.abuse.ch/url/%d/\",\"r\"\n",
			i, i%250+1, 1024+i%5000, i, i)
	}
	data := buf.Bytes()
	opts, err := Preset(PresetURLhaus)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		ins, probs, err := ReadCSV(bytes.NewReader(data), opts)
		if err != nil || len(ins) != 100000 || len(probs) != 0 {
			b.Fatalf("%d indicators, %d problems, %v", len(ins), len(probs), err)
		}
	}
}
