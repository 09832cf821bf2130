import { ISignal } from '@lumino/signaling';
import { useEffect, useReducer } from 'react';

/**
 * Re-render the component whenever `signal` is emitted.
 */
export function useSignal<T, U>(signal: ISignal<T, U>): void {
  const [, bump] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    const slot = () => bump();
    signal.connect(slot);
    return () => {
      signal.disconnect(slot);
    };
  }, [signal]);
}

/**
 * Re-render every `ms` milliseconds (running durations, relative times).
 */
export function useClock(ms: number): number {
  const [now, setNow] = useReducer((_: number, t: number) => t, Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), ms);
    return () => window.clearInterval(timer);
  }, [ms]);
  return now;
}
