package wire

// IV_PROTO bits a peer announces in its peer info (ssl.h IV_PROTO_*).
const (
	IVProtoDataV2        = 1 << 1 // P_DATA_V2 with peer-id
	IVProtoRequestPush   = 1 << 2 // sends PUSH_REQUEST at once; the server may push unasked
	IVProtoTLSKeyExport  = 1 << 3 // data keys by TLS-EKM
	IVProtoAuthPendingKW = 1 << 4 // AUTH_PENDING with keywords (timeout)
	IVProtoNCPP2P        = 1 << 5 // cipher negotiation in p2p mode
	IVProtoDNSOption     = 1 << 6 // the "dns" option
	IVProtoCCExitNotify  = 1 << 7 // explicit-exit-notify as a control message
	IVProtoAuthFailTemp  = 1 << 8 // AUTH_FAILED,TEMP
	IVProtoDynTLSCrypt   = 1 << 9 // tls-crypt keys renewed per renegotiation
)
