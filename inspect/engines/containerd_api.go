package engines

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"golang.org/x/net/http2"
	"google.golang.org/protobuf/encoding/protowire"

	"glassbox/inspect"
)

// containerd keeps a container's labels and image name in its metadata
// store, reachable only through its gRPC API. Two read-only calls are
// needed (Namespaces/List, and Containers/List per namespace), and a few
// fields of their answers; a client for that is a unary gRPC call — HTTP/2 over the unix socket, a
// 5-byte frame header, protobuf fields read with protowire — rather than
// containerd's client library and grpc-go (a large dependency tree for
// one call).

const containersList = "/containerd.services.containers.v1.Containers/List"

const namespacesList = "/containerd.services.namespaces.v1.Namespaces/List"

// containerdAPI adds what containerd's API at address says of the
// containers of one namespace: labels, image and creation time of those
// found in their bundles (cs), and the containers that have no task, hence
// no bundle (created, or whose task was deleted), which it returns.
func containerdAPI(ctx context.Context, p Places, address, ns string, cs []*inspect.Container) ([]*inspect.Container, error) {
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	answer, err := grpcUnary(ctx, address, ns, containersList, nil)
	if err != nil {
		return nil, err
	}
	byID, err := parseContainerList(answer)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", containersList, err)
	}
	src := "containerd " + address + " " + containersList + " (namespace " + ns + ")"
	seen := map[string]bool{}
	for _, c := range cs {
		seen[c.ID] = true
		if m, ok := byID[c.ID]; ok {
			c.Labels, c.Image = m.labels, m.image
			if !m.created.IsZero() {
				c.Created = m.created
			}
			c.Source = src + ", " + c.Source
		}
	}
	var taskless []*inspect.Container
	for id, m := range byID {
		if seen[id] {
			continue
		}
		taskless = append(taskless, &inspect.Container{
			Engine: inspect.EngineContainerd, Namespace: ns, ID: id, Name: id, Status: "created",
			Labels: m.labels, Image: m.image, Created: m.created, Source: src,
		})
	}
	return taskless, nil
}

// containerdNamespaces lists the namespaces of containerd's API at address.
func containerdNamespaces(ctx context.Context, p Places, address string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	answer, err := grpcUnary(ctx, address, "", namespacesList, nil)
	if err != nil {
		return nil, err
	}
	// ListNamespacesResponse: repeated Namespace namespaces = 1; in
	// Namespace: name = 1.
	var out []string
	err = fields(answer, func(num protowire.Number, v []byte) error {
		if num != 1 {
			return nil
		}
		return fields(v, func(num protowire.Number, v []byte) error {
			if num == 1 {
				out = append(out, string(v))
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", namespacesList, err)
	}
	return out, nil
}

// grpcUnary makes one unary gRPC call over a unix socket and returns the
// answer's message bytes.
func grpcUnary(ctx context.Context, socket, ns, method string, msg []byte) ([]byte, error) {
	tr := &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, _, _ string, _ *tls.Config) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
	}
	defer tr.CloseIdleConnections()
	body := make([]byte, 5+len(msg))
	binary.BigEndian.PutUint32(body[1:5], uint32(len(msg)))
	copy(body[5:], msg)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://containerd"+method, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	if ns != "" {
		req.Header.Set("containerd-namespace", ns)
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return nil, unwrapDial(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	status := resp.Trailer.Get("Grpc-Status")
	if status == "" {
		status = resp.Header.Get("Grpc-Status") // a trailers-only answer
	}
	if status != "" && status != "0" {
		m := resp.Trailer.Get("Grpc-Message")
		if m == "" {
			m = resp.Header.Get("Grpc-Message")
		}
		return nil, fmt.Errorf("%s: grpc status %s: %s", method, status, m)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %s", method, resp.Status)
	}
	if len(data) < 5 {
		return nil, fmt.Errorf("%s: short answer (%d bytes)", method, len(data))
	}
	if data[0] != 0 {
		return nil, fmt.Errorf("%s: compressed answer, not asked for", method)
	}
	n := binary.BigEndian.Uint32(data[1:5])
	if int(n) != len(data)-5 {
		return nil, fmt.Errorf("%s: answer of %d bytes says %d", method, len(data)-5, n)
	}
	return data[5:], nil
}

// unwrapDial keeps the dial error (no such socket, refused, denied)
// recognisable under the transport's wrapping.
func unwrapDial(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return op
	}
	return err
}

type containerMeta struct {
	labels  map[string]string
	image   string
	created time.Time
}

// parseContainerList reads a ListContainersResponse: repeated Container
// containers = 1; in Container: id = 1, labels = 2 (map<string,string>),
// image = 3, created_at = 8 (google.protobuf.Timestamp).
func parseContainerList(b []byte) (map[string]containerMeta, error) {
	out := map[string]containerMeta{}
	err := fields(b, func(num protowire.Number, v []byte) error {
		if num != 1 {
			return nil
		}
		var id string
		m := containerMeta{labels: map[string]string{}}
		err := fields(v, func(num protowire.Number, v []byte) error {
			switch num {
			case 1:
				id = string(v)
			case 2:
				var k, val string
				if err := fields(v, func(num protowire.Number, v []byte) error {
					switch num {
					case 1:
						k = string(v)
					case 2:
						val = string(v)
					}
					return nil
				}); err != nil {
					return err
				}
				m.labels[k] = val
			case 3:
				m.image = string(v)
			case 8:
				var sec, nsec int64
				if err := varints(v, func(num protowire.Number, x uint64) {
					switch num {
					case 1:
						sec = int64(x)
					case 2:
						nsec = int64(int32(x))
					}
				}); err != nil {
					return err
				}
				m.created = time.Unix(sec, nsec)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(m.labels) == 0 {
			m.labels = nil
		}
		out[id] = m
		return nil
	})
	return out, err
}

// fields calls fn with each length-delimited field of a message.
func fields(b []byte, fn func(protowire.Number, []byte) error) error {
	return eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		return fn(num, v)
	})
}

// varints calls fn with each varint field of a message.
func varints(b []byte, fn func(protowire.Number, uint64)) error {
	return eachField(b, func(num protowire.Number, typ protowire.Type, _ []byte, x uint64) error {
		if typ == protowire.VarintType {
			fn(num, x)
		}
		return nil
	})
}

// eachField walks a message's fields: a length-delimited one's bytes or a
// varint's value is given to fn; other wire types are skipped.
func eachField(b []byte, fn func(protowire.Number, protowire.Type, []byte, uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if err := fn(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}
