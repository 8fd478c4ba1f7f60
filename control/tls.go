package control

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// pipeConn is the net.Conn that crypto/tls runs on. Inbound bytes are the
// in-order payloads of the key slot's control packets, fed by the owner
// goroutine; outbound bytes (TLS records) collect in a buffer that the owner
// drains into control packets. Writes never block; reads block until data
// arrives or the pipe is closed. Blocking uses channels, so the TLS goroutine
// is durably blocked in the sense of testing/synctest.
type pipeConn struct {
	mu     sync.Mutex
	in     []byte
	out    []byte
	closed bool
	avail  chan struct{} // 1-buffered: inbound data or close
	wake   func()        // called after every outbound write
}

// maxPipeOut bounds the outbound buffer: TLS only writes handshake flights
// and our own messages, far below this.
const maxPipeOut = 1 << 20

var errPipeClosed = errors.New("control: TLS pipe closed")

func newPipe(wake func()) *pipeConn {
	return &pipeConn{avail: make(chan struct{}, 1), wake: wake}
}

func (p *pipeConn) signal() {
	select {
	case p.avail <- struct{}{}:
	default:
	}
}

// feed appends inbound bytes for the TLS reader.
func (p *pipeConn) feed(b []byte) {
	p.mu.Lock()
	p.in = append(p.in, b...)
	p.mu.Unlock()
	p.signal()
}

// drain returns and clears the outbound bytes.
func (p *pipeConn) drain() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.out
	p.out = nil
	return b
}

func (p *pipeConn) Read(b []byte) (int, error) {
	for {
		p.mu.Lock()
		if len(p.in) > 0 {
			n := copy(b, p.in)
			p.in = p.in[n:]
			if len(p.in) == 0 {
				p.in = nil
			}
			p.mu.Unlock()
			return n, nil
		}
		if p.closed {
			p.mu.Unlock()
			return 0, io.EOF
		}
		p.mu.Unlock()
		<-p.avail
	}
}

func (p *pipeConn) Write(b []byte) (int, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return 0, errPipeClosed
	}
	if len(p.out)+len(b) > maxPipeOut {
		p.mu.Unlock()
		return 0, errors.New("control: TLS output not drained")
	}
	p.out = append(p.out, b...)
	p.mu.Unlock()
	p.wake()
	return len(b), nil
}

func (p *pipeConn) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.signal()
	return nil
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "openvpn-control" }
func (pipeAddr) String() string  { return "openvpn-control" }

func (p *pipeConn) LocalAddr() net.Addr              { return pipeAddr{} }
func (p *pipeConn) RemoteAddr() net.Addr             { return pipeAddr{} }
func (p *pipeConn) SetDeadline(time.Time) error      { return nil }
func (p *pipeConn) SetReadDeadline(time.Time) error  { return nil }
func (p *pipeConn) SetWriteDeadline(time.Time) error { return nil }

// tlsEngine runs one TLS session (one key slot) on its own goroutine:
// the handshake, then a loop reading application-data records. The owner
// goroutine collects results with poll and writes with write.
type tlsEngine struct {
	pipe *pipeConn
	conn *tls.Conn

	mu        sync.Mutex
	done      bool // handshake complete
	reported  bool // done already returned by poll
	state     tls.ConnectionState
	records   [][]byte
	err       error
	errPolled bool
	exited    chan struct{}
}

func startTLS(cfg *tls.Config, server bool, wake func()) *tlsEngine {
	e := &tlsEngine{pipe: newPipe(wake), exited: make(chan struct{})}
	if server {
		e.conn = tls.Server(e.pipe, cfg)
	} else {
		e.conn = tls.Client(e.pipe, cfg)
	}
	go e.run(wake)
	return e
}

func (e *tlsEngine) run(wake func()) {
	defer close(e.exited)
	err := e.conn.Handshake()
	e.mu.Lock()
	if err != nil {
		e.err = err
		e.mu.Unlock()
		wake()
		return
	}
	e.done = true
	e.state = e.conn.ConnectionState()
	e.mu.Unlock()
	wake()
	// One Read returns one record's plaintext (at most 16 KiB).
	buf := make([]byte, 16<<10+256)
	for {
		n, err := e.conn.Read(buf)
		e.mu.Lock()
		if n > 0 {
			e.records = append(e.records, append([]byte(nil), buf[:n]...))
		}
		if err != nil {
			e.err = err
			e.mu.Unlock()
			wake()
			return
		}
		e.mu.Unlock()
		wake()
	}
}

// poll returns what happened since the last call: whether the handshake just
// completed, the records read, and a terminal error (once).
func (e *tlsEngine) poll() (handshakeDone bool, records [][]byte, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done && !e.reported {
		e.reported = true
		handshakeDone = true
	}
	records = e.records
	e.records = nil
	if e.err != nil && !e.errPolled {
		e.errPolled = true
		err = e.err
	}
	return
}

// connectionState is valid after the handshake completed.
func (e *tlsEngine) connectionState() tls.ConnectionState {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.state
}

// write sends one TLS record. It must only be called after the handshake
// completed, from the owner goroutine.
func (e *tlsEngine) write(b []byte) error {
	_, err := e.conn.Write(b)
	return err
}

func (e *tlsEngine) close() {
	e.pipe.Close()
}

// wait blocks until the TLS goroutine exited (for tests and Close).
func (e *tlsEngine) wait() { <-e.exited }
