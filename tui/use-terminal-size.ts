/** The terminal's size, following resizes; a TerminalSizeContext value pins it (tests, benchmarks). */
import { useStdout } from "ink";
import { createContext, useContext, useEffect, useState } from "react";

export interface TerminalSize {
  columns: number;
  rows: number;
}

export const TerminalSizeContext = createContext<TerminalSize | null>(null);

export function useTerminalSize(): TerminalSize {
  const fixed = useContext(TerminalSizeContext);
  const { stdout } = useStdout();
  const read = (): TerminalSize => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  const [size, setSize] = useState(read);
  useEffect(() => {
    if (fixed) return;
    const onResize = () => setSize({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
    stdout.on("resize", onResize);
    return () => {
      stdout.off("resize", onResize);
    };
  }, [stdout, fixed]);
  return fixed ?? size;
}
