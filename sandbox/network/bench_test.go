package network

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The proxy's cost, in process: the same requests straight to a server and
// through a Proxy in front of it. Compare the pairs:
//
//	go test -run '^$' -bench Proxy -benchtime 3s ./sandbox/network

const answer = `{"result":42,"processed_by":"3f2a9c01b7de"}` + "\n"

func httpUpstream(b *testing.B) net.Listener {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, answer)
	})}
	go srv.Serve(l)
	b.Cleanup(func() { srv.Close() })
	return l
}

// targets returns the name and address of the direct and the proxied path.
func targets(b *testing.B, upstream net.Listener) map[string]string {
	_, via := proxyTo(b, upstream.Addr())
	return map[string]string{"direct": upstream.Addr().String(), "proxy": via}
}

// BenchmarkProxyRequests: keep-alive HTTP requests from 32 clients at once,
// like wrk -c32.
func BenchmarkProxyRequests(b *testing.B) {
	up := httpUpstream(b)
	for _, name := range []string{"direct", "proxy"} {
		b.Run(name, func(b *testing.B) {
			url := "http://" + targets(b, up)[name] + "/calculate"
			tr := &http.Transport{MaxIdleConnsPerHost: 64}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			b.SetParallelism(16) // 2 cores × 16 = 32 clients
			b.ResetTimer()
			start := time.Now()
			var n atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := client.Get(url)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					n.Add(1)
				}
			})
			b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "req/s")
		})
	}
}

// BenchmarkProxyConnections: one request per connection, the proxy's
// per-connection cost (accept, dial, two copies, teardown).
func BenchmarkProxyConnections(b *testing.B) {
	up := httpUpstream(b)
	for _, name := range []string{"direct", "proxy"} {
		b.Run(name, func(b *testing.B) {
			addr := targets(b, up)[name]
			req := "GET /calculate HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					b.Fatal(err)
				}
				io.WriteString(c, req)
				resp, err := io.ReadAll(c)
				c.Close()
				if err != nil || !strings.HasSuffix(string(resp), answer) {
					b.Fatalf("answer %q, %v", resp, err)
				}
			}
		})
	}
}

// BenchmarkProxyStream: bulk bytes one way (splice's case).
func BenchmarkProxyStream(b *testing.B) {
	sink, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	go func() {
		for {
			c, err := sink.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	buf := make([]byte, 256<<10)
	for _, name := range []string{"direct", "proxy"} {
		b.Run(name, func(b *testing.B) {
			c, err := net.Dial("tcp", targets(b, sink)[name])
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			b.SetBytes(int64(len(buf)))
			b.ResetTimer()
			for range b.N {
				if _, err := c.Write(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
