module github.com/openvpn-go/openvpn-go

go 1.26.0

require (
	github.com/pierrec/lz4/v4 v4.1.33
	github.com/vishvananda/netlink v1.3.1
	github.com/vishvananda/netns v0.0.5
	golang.org/x/crypto v0.58.0
	golang.org/x/sys v0.49.0
	golang.zx2c4.com/wireguard v0.0.0-20260522210424-ecfc5a8d5446
	software.sslmate.com/src/go-pkcs12 v0.7.4
)

require (
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/term v0.47.0
	golang.zx2c4.com/wintun v0.0.0-20230126152724-0fa3db229ce2 // indirect
)
