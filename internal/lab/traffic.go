package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// PingResult is what one ping run measured.
type PingResult struct {
	Sent, Received int
	Output         string
}

var pingSummary = regexp.MustCompile(`(\d+) packets transmitted, (\d+) (?:packets )?received`)

// PingCount pings addr from inside the namespace, 100 ms apart, until count
// replies have come back or count/10+2 seconds have passed (ping -c -w: on a
// slow machine it may send more than count requests), and reports what was
// sent and received. Only a failure to run ping (or to read its summary) is
// an error: no reply at all is a result, for negative tests.
func (ns *NS) PingCount(ctx context.Context, addr netip.Addr, count int) (PingResult, error) {
	if _, err := lookPath("ping"); err != nil {
		return PingResult{}, err
	}
	deadline := int(math.Ceil(float64(count)*0.1)) + 2
	out, err := ns.Command(ctx, "ping", "-n", "-q", "-c", strconv.Itoa(count), "-i", "0.1",
		"-W", "1", "-w", strconv.Itoa(deadline), addr.String()).CombinedOutput()
	r := PingResult{Output: string(out)}
	m := pingSummary.FindStringSubmatch(r.Output)
	if m == nil {
		return r, fmt.Errorf("lab: in %s: ping %s failed: %v: %s", ns.Role, addr, err, out)
	}
	r.Sent, _ = strconv.Atoi(m[1])
	r.Received, _ = strconv.Atoi(m[2])
	return r, nil
}

// Ping pings addr from inside the namespace (see PingCount) and fails t
// unless count replies come back.
func (ns *NS) Ping(t testing.TB, addr netip.Addr, count int) PingResult {
	t.Helper()
	RequireBinary(t, "ping")
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	r, err := ns.PingCount(ctx, addr, count)
	if err != nil {
		t.Fatal(err)
	}
	if r.Received < count {
		t.Fatalf("lab: ping %s from %s: %d of %d answered:\n%s", addr, ns.Role, r.Received, count, r.Output)
	}
	return r
}

// IperfOptions tunes an iperf3 run. The zero value is a 2-second TCP test
// from client to server on port 5201.
type IperfOptions struct {
	// Duration of the test, rounded up to whole seconds (default 2 s).
	Duration time.Duration
	// UDP runs a UDP test at Bitrate instead of TCP.
	UDP bool
	// Bitrate limits the sender, in iperf3 syntax ("100M"); UDP defaults to 1M.
	Bitrate string
	// Reverse makes the server send (download instead of upload).
	Reverse bool
	// Streams is the number of parallel streams (default 1).
	Streams int
	// Port the server listens on (default 5201).
	Port int
	// Length is the size of each write (UDP: the datagram payload, -l);
	// 0 keeps iperf3's default.
	Length int
}

// IperfResult is what iperf3 measured, as reported by the client's JSON.
type IperfResult struct {
	// SentBPS and ReceivedBPS are the average rates in bits per second at the
	// sender and at the receiver.
	SentBPS, ReceivedBPS float64
	// Retransmits is the number of TCP retransmissions.
	Retransmits int
	// LostPercent is the UDP datagram loss.
	LostPercent float64
	// ReceivedPackets is the number of UDP datagrams the server received.
	ReceivedPackets float64
}

// Iperf3 runs an iperf3 server in srv and a client in cli that connects to
// addr (an address of srv, for instance its tunnel address), and returns what
// the client measured. It fails t on error.
func Iperf3(t testing.TB, cli, srv *NS, addr netip.Addr, o IperfOptions) IperfResult {
	t.Helper()
	RequireBinary(t, "iperf3")
	if o.Duration <= 0 {
		o.Duration = 2 * time.Second
	}
	if o.Port == 0 {
		o.Port = 5201
	}
	port := strconv.Itoa(o.Port)
	server := srv.Start(t, "iperf3-server-"+port, "iperf3", "-s", "-1", "--forceflush", "-p", port)
	server.WaitLog(t, "Server listening on", 10*time.Second)

	secs := int(math.Ceil(o.Duration.Seconds()))
	args := []string{"-c", addr.String(), "-p", port, "-J", "-t", strconv.Itoa(secs)}
	if o.UDP {
		args = append(args, "-u")
		if o.Bitrate == "" {
			o.Bitrate = "1M"
		}
	}
	if o.Bitrate != "" {
		args = append(args, "-b", o.Bitrate)
	}
	if o.Reverse {
		args = append(args, "-R")
	}
	if o.Streams > 1 {
		args = append(args, "-P", strconv.Itoa(o.Streams))
	}
	if o.Length > 0 {
		args = append(args, "-l", strconv.Itoa(o.Length))
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.Duration+30*time.Second)
	defer cancel()
	out, runErr := cli.Command(ctx, "iperf3", args...).Output()
	r, err := parseIperf(out)
	if err != nil {
		t.Fatalf("lab: iperf3 %v from %s: %v (run error: %v)\n%s", args, cli.Role, err, runErr, out)
	}
	return r
}

// iperfSum is one summary block of `iperf3 -J` output.
type iperfSum struct {
	BitsPerSecond float64 `json:"bits_per_second"`
	Retransmits   int     `json:"retransmits"`
	Packets       int     `json:"packets"`
	LostPackets   int     `json:"lost_packets"`
	LostPercent   float64 `json:"lost_percent"`
}

// iperfJSON is the part of `iperf3 -J` output the lab reads. TCP has
// sum_sent and sum_received; UDP has sum and, since iperf 3.10 or so, the
// other two as well.
type iperfJSON struct {
	Error string `json:"error"`
	End   struct {
		SumSent     *iperfSum `json:"sum_sent"`
		SumReceived *iperfSum `json:"sum_received"`
		Sum         *iperfSum `json:"sum"`
	} `json:"end"`
}

// parseIperf reads the JSON an iperf3 client printed with -J.
func parseIperf(b []byte) (IperfResult, error) {
	var j iperfJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return IperfResult{}, fmt.Errorf("lab: reading iperf3 JSON: %w", err)
	}
	if j.Error != "" {
		return IperfResult{}, fmt.Errorf("lab: iperf3 reported: %s", j.Error)
	}
	var r IperfResult
	e := j.End
	if e.Sum != nil { // UDP
		r.SentBPS, r.ReceivedBPS, r.LostPercent = e.Sum.BitsPerSecond, e.Sum.BitsPerSecond, e.Sum.LostPercent
		r.ReceivedPackets = float64(e.Sum.Packets - e.Sum.LostPackets)
	}
	if e.SumSent != nil {
		r.SentBPS, r.Retransmits = e.SumSent.BitsPerSecond, e.SumSent.Retransmits
	}
	if e.SumReceived != nil {
		r.ReceivedBPS = e.SumReceived.BitsPerSecond
		if e.Sum != nil && e.SumReceived.Packets > 0 {
			r.LostPercent = e.SumReceived.LostPercent
			r.ReceivedPackets = float64(e.SumReceived.Packets - e.SumReceived.LostPackets)
		}
	}
	if e.Sum == nil && e.SumSent == nil && e.SumReceived == nil {
		return r, fmt.Errorf("lab: iperf3 JSON has no end summary")
	}
	return r, nil
}
