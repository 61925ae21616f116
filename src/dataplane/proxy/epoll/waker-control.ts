/** The shared Int32Array between the epoll loop and its waker Worker. */
/** 1 while the main thread waits for the waker to report activity. */
export const ARMED = 0;
/** 1 asks the waker to end. */
export const STOP = 1;

export interface WakerInit {
  epfd: number;
  control: SharedArrayBuffer;
}
