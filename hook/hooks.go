package hook

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/openvpn-go/openvpn-go/config"
	"github.com/openvpn-go/openvpn-go/x509name"
)

// RunUpDown runs an up, down or route-pre-down script (typ is TypeUp,
// TypeDown or TypeRoutePreDown) as init.c run_up_down does: it first sets
// the variables of u in env ([Env.SetUpDown], also when s is nil, as
// openvpn does for plugins), then runs s with the arguments
// "dev tun_mtu 0 ifconfig_local ifconfig_remote init|restart", logging
// the command line first as openvpn does. openvpn treats a failure of these
// scripts as fatal.
func (r *Runner) RunUpDown(ctx context.Context, s *config.Script, typ string, env *Env, u UpDown) error {
	if env == nil {
		env = NewEnv()
	}
	env.SetUpDown(u)
	if s == nil {
		return nil
	}
	args := u.Args()
	r.log().Info(strings.Join(append(append([]string{s.Path}, s.Args...), args...), " "))
	_, err := r.Run(ctx, s, typ, env, args...)
	return err
}

// IPChangeArg is the single argument openvpn 2.6 appends to the ipchange
// command: the peer address as its log prints it, family tag included,
// then a space and the port, all in one argument ("[AF_INET]192.0.2.1
// 1194", "[AF_INET6]2001:db8::1 1194"). Scripts written for the documented
// "ip port" form see it as $1 (checked against the 2.6.14 binary).
func IPChangeArg(remote netip.AddrPort) string {
	a := remote.Addr()
	fam := "[AF_INET]"
	if a.Is6() {
		fam = "[AF_INET6]"
	}
	host := "[undef]"
	if a.IsValid() && !a.IsUnspecified() {
		host = a.String()
	}
	return fam + host + " " + strconv.Itoa(int(remote.Port()))
}

// IPChange runs the ipchange script for the authenticated peer address
// remote. openvpn sets trusted_ip/trusted_port ([Env.SetTrusted]) and
// common_name in env before, on every connection, script or not; a failure
// is only a warning.
func (r *Runner) IPChange(ctx context.Context, s *config.Script, env *Env, remote netip.AddrPort) error {
	_, err := r.Run(ctx, s, TypeIPChange, env, IPChangeArg(remote))
	return err
}

// TLSVerify runs the tls-verify script for the certificate at depth of the
// peer's chain, with the arguments "depth subject" ([Subject]). env must already hold the certificate
// variables of this depth ([Env.SetCert]; openvpn sets them for every depth
// whether or not a script runs) and untrusted_ip/untrusted_port. With
// exportDir set (tls-export-cert) the certificate is written in PEM to a new
// file there whose path is peer_cert during the call; file and variable are
// removed afterwards. A nil error accepts the certificate.
func (r *Runner) TLSVerify(ctx context.Context, s *config.Script, env *Env, depth int, cert *x509.Certificate, exportDir string) error {
	if s == nil {
		return nil
	}
	if exportDir != "" {
		if env == nil {
			env = NewEnv()
		}
		path, err := createTempFile(exportDir, prefixPeerCert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
		if err != nil {
			return fmt.Errorf("hook: failed to export certificate for --tls-export-cert in %s: %w", exportDir, err)
		}
		env.Set("peer_cert", path)
		defer func() {
			env.Del("peer_cert")
			os.Remove(path)
		}()
	}
	_, err := r.Run(ctx, s, TypeTLSVerify, env, strconv.Itoa(depth), x509name.Subject(cert))
	return err
}

// TLSVerifyChain runs the tls-verify script for every certificate of a
// verified chain (the peer's first, the root last) from the root down to
// the peer, as openvpn's verify callback does: the certificate variables of
// each depth are added to env before its run, common_name before depth 0.
// The first refusal refuses the peer; each run is bounded to 30 s. env
// should hold untrusted_ip/untrusted_port.
func (r *Runner) TLSVerifyChain(ctx context.Context, s *config.Script, env *Env, chain []*x509.Certificate, exportDir string) error {
	if s == nil {
		return nil
	}
	for depth := len(chain) - 1; depth >= 0; depth-- {
		if depth == 0 {
			if cn, ok := PeerCommonName(chain[0]); ok {
				env.SetCommonName(cn)
			}
		}
		env.SetCert(depth, chain[depth])
		c, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := r.TLSVerify(c, s, env, depth, chain[depth], exportDir)
		cancel()
		if err != nil {
			return fmt.Errorf("VERIFY SCRIPT ERROR: depth=%d, %s: %w", depth, x509name.Subject(chain[depth]), err)
		}
	}
	return nil
}

// TLSCryptV2Verify runs the tls-crypt-v2-verify script for the metadata of
// a client's tls-crypt-v2 key (its first byte is the type: 0 user data, 1 a
// timestamp). As in openvpn the script gets a fresh environment holding
// only script_type, metadata_type and metadata_file, the path of a file
// (removed afterwards) with the metadata after the type byte. A nil error
// accepts the client.
func (r *Runner) TLSCryptV2Verify(ctx context.Context, s *config.Script, metadata []byte) error {
	if s == nil {
		return nil
	}
	if len(metadata) == 0 {
		return errors.New("hook: tls-crypt-v2 metadata has no type byte")
	}
	path, err := createTempFile(r.tmpDir(), prefixTLSCryptMeta, metadata[1:])
	if err != nil {
		return fmt.Errorf("hook: could not write metadata to file: %w", err)
	}
	defer os.Remove(path)
	env := NewEnv()
	env.Set("metadata_type", strconv.Itoa(int(metadata[0])))
	env.Set("metadata_file", path)
	_, err = r.Run(ctx, s, TypeTLSCryptV2Verify, env)
	return err
}

// ClientCRResponse runs the client-crresponse script with the path of a new
// file (removed afterwards) holding the client's CR_RESPONSE text and a
// newline as its argument. A non-nil error de-authenticates the client.
func (r *Runner) ClientCRResponse(ctx context.Context, s *config.Script, env *Env, response string) error {
	if s == nil {
		return nil
	}
	path, err := createTempFile(r.tmpDir(), prefixCRResponse, []byte(response+"\n"))
	if err != nil {
		return fmt.Errorf("hook: could not write crtext challenge response to file: %w", err)
	}
	defer os.Remove(path)
	_, err = r.Run(ctx, s, TypeClientCRResponse, env, path)
	return err
}

// LearnOp is the operation of a learn-address call.
type LearnOp string

// The learn-address operations.
const (
	LearnAdd    LearnOp = "add"
	LearnUpdate LearnOp = "update"
	LearnDelete LearnOp = "delete"
)

// LearnAddress runs the learn-address script with the arguments "op
// address cn" (cn only for add and update; "UNDEF" when empty), address
// being the learned IPv4 or IPv6 address, subnet ("10.0.0.0/24") or MAC
// address. For add and update a nil error accepts the address, anything
// else refuses it. openvpn 2.6 runs delete with an environment holding
// nothing but script_type: pass a nil env for it.
func (r *Runner) LearnAddress(ctx context.Context, s *config.Script, env *Env, op LearnOp, addr, cn string) error {
	args := []string{string(op), addr}
	if op != LearnDelete {
		if cn == "" {
			cn = "UNDEF"
		}
		args = append(args, cn)
	}
	_, err := r.Run(ctx, s, TypeLearnAddress, env, args...)
	return err
}

// ClientDisconnect runs the client-disconnect script, without extra
// arguments. env should hold trusted_ip/trusted_port and the statistics of
// [Env.SetDisconnect]; openvpn only logs a failure.
func (r *Runner) ClientDisconnect(ctx context.Context, s *config.Script, env *Env) error {
	_, err := r.Run(ctx, s, TypeClientDisconnect, env)
	return err
}

// ConnectStatus is the outcome of a client-connect script.
type ConnectStatus int

// The outcomes of client-connect.
const (
	ConnectFailed ConnectStatus = iota
	ConnectSucceeded
	ConnectDeferred
)

func (s ConnectStatus) String() string {
	switch s {
	case ConnectSucceeded:
		return "succeeded"
	case ConnectDeferred:
		return "deferred"
	}
	return "failed"
}

// ParseConnectDeferred reads client_connect_deferred_file contents as
// openvpn does (multi.c ccs_test_deferred_ret_file): a first byte '1'
// succeeds, '2' defers, an empty file is "no answer" (ConnectDeferred while
// waiting, success right after the script), '0' and any other byte fail.
func ParseConnectDeferred(data []byte) ConnectStatus {
	if len(data) == 0 {
		return ConnectDeferred
	}
	switch data[0] {
	case '1':
		return ConnectSucceeded
	case '2':
		return ConnectDeferred
	}
	return ConnectFailed
}

// ConnectResult is the outcome of [Runner.ClientConnect].
type ConnectResult struct {
	Status ConnectStatus
	// Config is what the script wrote to client_connect_config_file, in
	// client-config-dir syntax (parse it with config.ParseCCD); set when
	// Status is ConnectSucceeded.
	Config []byte
	// Deferred follows a deferred client-connect; nil unless Status is
	// ConnectDeferred. The caller must Close it.
	Deferred *DeferredConnect
	// Output is the script's output.
	Output []byte
}

// ClientConnect runs the client-connect script as openvpn 2.6 does
// (multi.c multi_client_connect_call_script): it creates
// client_connect_config_file and client_connect_deferred_file (empty, mode
// 0600, in TmpDir), sets both in env, and passes the config file's path as
// the last argument.
//
// A non-zero exit status fails (exit status 2 does not defer a
// client-connect script; openvpn's deferral is the deferred file). With
// exit status 0, the first byte of the deferred file decides: '2' defers
// (ConnectResult.Deferred then follows the file until the script's
// background process writes 1 or 0, and the configuration), nothing or '1'
// succeeds with the configuration written so far. '0' or another byte
// fails: openvpn 2.6 accepts the client in that case, contradicting its
// manual, which documents 0 as an error; this package follows the manual.
//
// Unless deferred, both files are removed and both variables deleted from
// env before returning. A nil s succeeds with no configuration and no files.
// env should hold common_name, trusted_ip/trusted_port, the pool addresses
// ([Env.SetPoolAddrs]) and the connect time ([Env.SetConnectTime]).
func (r *Runner) ClientConnect(ctx context.Context, s *config.Script, env *Env) (*ConnectResult, error) {
	if s == nil {
		return &ConnectResult{Status: ConnectSucceeded}, nil
	}
	if env == nil {
		env = NewEnv()
	}
	d, err := r.newDeferredConnect(env)
	if err != nil {
		return &ConnectResult{}, err
	}
	res, err := r.Run(ctx, s, TypeClientConnect, env, d.config)
	out := &ConnectResult{Output: res.Output}
	if err != nil {
		d.Close()
		var ee *ExitError
		if errors.As(err, &ee) {
			return out, nil
		}
		return out, err
	}
	data, _ := readPrefix(d.ret, 1)
	switch st := ParseConnectDeferred(data); {
	case st == ConnectDeferred && len(data) > 0:
		out.Status, out.Deferred = ConnectDeferred, d
	case st == ConnectFailed:
		r.log().Warn("WARNING: client-connect script wrote a failure to client_connect_deferred_file")
		d.Close()
	default:
		out.Status = ConnectSucceeded
		out.Config = d.readConfig()
		d.Close()
	}
	return out, nil
}

// DeferredConnect follows a deferred client-connect: a process started by
// the script writes the configuration to client_connect_config_file, then
// 1 (or 0 on failure) to client_connect_deferred_file. It is safe for
// concurrent use, but its Poll, Wait and Close delete the two file
// variables from the Env given to ClientConnect once the outcome is known,
// so that Env must not be used concurrently with them.
type DeferredConnect struct {
	config, ret string
	env         *Env
	poll        time.Duration

	mu      sync.Mutex
	status  ConnectStatus
	data    []byte
	removed bool
}

func (r *Runner) newDeferredConnect(env *Env) (*DeferredConnect, error) {
	d := &DeferredConnect{env: env, poll: r.pollInterval(), status: ConnectDeferred}
	var err error
	if d.config, err = createTempFile(r.tmpDir(), prefixConnect, nil); err != nil {
		return nil, err
	}
	if d.ret, err = createTempFile(r.tmpDir(), prefixConnectRet, nil); err != nil {
		os.Remove(d.config)
		return nil, err
	}
	env.Set("client_connect_config_file", d.config)
	env.Set("client_connect_deferred_file", d.ret)
	return d, nil
}

// Poll reads client_connect_deferred_file once and returns the outcome and,
// on success, the configuration. A known outcome is final (the files are
// then removed); ConnectDeferred means no outcome yet.
func (d *DeferredConnect) Poll() (ConnectStatus, []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.status != ConnectDeferred || d.removed {
		return d.status, d.data
	}
	data, err := readPrefix(d.ret, 1)
	if err != nil {
		return ConnectDeferred, nil
	}
	switch ParseConnectDeferred(data) {
	case ConnectDeferred:
		return ConnectDeferred, nil
	case ConnectSucceeded:
		d.status, d.data = ConnectSucceeded, d.readConfig()
	default:
		d.status = ConnectFailed
	}
	d.removeLocked()
	return d.status, d.data
}

// Wait polls every Runner.PollInterval until the outcome is known or ctx
// is done (openvpn's limit is hand-window); in the latter case it returns
// ConnectDeferred and an error wrapping the context's error, and the
// caller fails the client and Closes.
func (d *DeferredConnect) Wait(ctx context.Context) (ConnectStatus, []byte, error) {
	t := time.NewTicker(d.poll)
	defer t.Stop()
	for {
		if st, cfg := d.Poll(); st != ConnectDeferred {
			return st, cfg, nil
		}
		select {
		case <-ctx.Done():
			if st, cfg := d.Poll(); st != ConnectDeferred {
				return st, cfg, nil
			}
			return ConnectDeferred, nil, fmt.Errorf("hook: waiting for the deferred client-connect: %w", context.Cause(ctx))
		case <-t.C:
		}
	}
}

// Close removes both files and deletes their variables from the Env; an
// outcome not yet known can no longer arrive. Close is idempotent.
func (d *DeferredConnect) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.removeLocked()
}

func (d *DeferredConnect) removeLocked() error {
	if d.removed {
		return nil
	}
	d.removed = true
	d.env.Del("client_connect_deferred_file")
	d.env.Del("client_connect_config_file")
	return removeFiles(d.ret, d.config)
}

// readConfig returns the configuration file's contents; a file the script
// removed reads as an empty configuration.
func (d *DeferredConnect) readConfig() []byte {
	b, _ := os.ReadFile(d.config)
	return b
}
