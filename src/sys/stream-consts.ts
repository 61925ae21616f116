/**
 * Linux constants of stream sockets and epoll, and the layout of struct epoll_event, for the code
 * that drives them through libc (the proxy's epoll engine, the load generator's ffi engine). No FFI
 * here. Error numbers are in errno.ts's table; the few the loops compare against are below.
 */
export const SOCK_STREAM = 1;
export const SOCK_NONBLOCK = 0x800;
export const SOCK_CLOEXEC = 0x80000;
export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const SO_ERROR = 4;
export const SO_LINGER = 13;
export const IPPROTO_TCP = 6;
export const TCP_NODELAY = 1;
export const SHUT_WR = 1;
export const MSG_DONTWAIT = 0x40;
export const MSG_NOSIGNAL = 0x4000;
export const MSG_MORE = 0x8000;

export const EINTR = 4;
export const EAGAIN = 11;
export const ENFILE = 23;
export const EMFILE = 24;
export const EINPROGRESS = 115;

export const EPOLLIN = 0x001;
export const EPOLLOUT = 0x004;
export const EPOLLERR = 0x008;
export const EPOLLHUP = 0x010;
export const EPOLLRDHUP = 0x2000;
export const EPOLLET = 0x80000000;
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;

/** struct epoll_event is packed on x86_64 (12 bytes), naturally aligned elsewhere (16). */
export const EPOLL_EVENT_SIZE = process.arch === "x64" ? 12 : 16;
/** u32 words per event, and the u32 index of the data field's low half. */
export const EPOLL_EVENT_WORDS = EPOLL_EVENT_SIZE / 4;
export const EPOLL_EVENT_DATA = process.arch === "x64" ? 1 : 2;
