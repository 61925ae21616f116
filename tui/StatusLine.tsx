/** One line under the screen: the last action's outcome (ipvsadm's message when it was refused). */
import { Text } from "ink";
import { fit } from "./window.ts";

export interface Status {
  level: "info" | "error";
  text: string;
}

export function StatusLine({ status, width }: { status: Status | null; width: number }) {
  if (!status) return <Text> </Text>;
  const line = fit(status.text.replace(/\s*\n\s*/g, " · "), width);
  return <Text color={status.level === "error" ? "red" : "green"}>{line}</Text>;
}
