package tuntest

import (
	"errors"
	"os"
	"testing"
)

func TestReadBatch(t *testing.T) {
	tests := []struct {
		name    string
		batch   int
		bufs    int
		packets []string
		want    []int // packet counts returned by successive Reads
	}{
		{"one at a time", 1, 4, []string{"a", "bb", "ccc"}, []int{1, 1, 1}},
		{"batched", 2, 4, []string{"a", "bb", "ccc"}, []int{2, 1}},
		{"limited by buffers", 8, 1, []string{"a", "bb"}, []int{1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := New("tun9", 1400, tt.batch)
			defer d.Close()
			// Buffer the packets so that they are all ready before Read.
			d.Outbound = make(chan []byte, len(tt.packets))
			for _, p := range tt.packets {
				d.Outbound <- []byte(p)
			}
			const offset = 3
			bufs := make([][]byte, tt.bufs)
			for i := range bufs {
				bufs[i] = make([]byte, 64)
			}
			sizes := make([]int, tt.bufs)
			next := 0
			for i, want := range tt.want {
				n, err := d.Read(bufs, sizes, offset)
				if err != nil || n != want {
					t.Fatalf("read %d: got %d, %v; want %d packets", i, n, err, want)
				}
				for j := 0; j < n; j++ {
					if got := string(bufs[j][offset : offset+sizes[j]]); got != tt.packets[next] {
						t.Errorf("read %d packet %d: got %q want %q", i, j, got, tt.packets[next])
					}
					next++
				}
			}
		})
	}
}

func TestWriteAndClose(t *testing.T) {
	d := New("tun9", 1400, 1)
	got := make(chan []byte)
	go func() { got <- <-d.Inbound }()
	if n, err := d.Write([][]byte{[]byte("xxhello")}, 2); n != 1 || err != nil {
		t.Fatalf("Write: %d, %v", n, err)
	}
	if p := <-got; string(p) != "hello" {
		t.Fatalf("Inbound got %q", p)
	}
	if e := <-d.Events(); e != 1 { // tun.EventUp
		t.Fatalf("first event %v", e)
	}
	readErr := make(chan error)
	go func() {
		_, err := d.Read([][]byte{make([]byte, 10)}, []int{0}, 0)
		readErr <- err
	}()
	d.Close()
	d.Close()
	if err := <-readErr; !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Read after Close: %v", err)
	}
	if _, err := d.Write([][]byte{[]byte("x")}, 0); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Write after Close: %v", err)
	}
	if _, ok := <-d.Events(); ok {
		t.Fatal("Events not closed")
	}
}
