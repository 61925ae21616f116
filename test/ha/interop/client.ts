/**
 * The lab's client (run inside the client namespace): one HTTP GET to URL every PERIOD ms, each
 * with a short timeout, printing one JSON line per request: {t, ok, body|error}. Stops after
 * MAX_SECONDS or when stdin closes.
 */
const [url, periodText = "100", maxText = "120"] = process.argv.slice(2);
const period = Number(periodText);
const end = Date.now() + Number(maxText) * 1000;

async function once(): Promise<void> {
  const t = Date.now();
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(300), headers: { Connection: "close" } });
    const body = (await r.text()).trim();
    process.stdout.write(`${JSON.stringify({ t, ok: r.ok, body })}\n`);
  } catch (e) {
    process.stdout.write(`${JSON.stringify({ t, ok: false, error: (e as Error).name })}\n`);
  }
}

while (Date.now() < end) {
  const started = Date.now();
  await once();
  await Bun.sleep(Math.max(0, period - (Date.now() - started)));
}

export {};
