import { useEffect, useMemo, useState } from 'preact/hooks';
import { RealtimeClient, renewTrackingToken } from '@choreo/realtime-client';
import { PageConfig } from './api';
import { ConnectionView, nextView, settle } from './connection';
import { Dashboard } from './dashboard';
import { Menu } from './menu';
import { Tracking } from './tracking';
import { loadTracking, newTracking, TrackingState } from './tracking-state';

const TOKEN_KEY = 'choreo.apiToken';

/** The page: the API token and connection bar, the menu with its order form, the tracking view and the dashboard. */
export function App({ config }: { config: PageConfig }) {
  const [token, setToken] = useState(() => localStorage.getItem(TOKEN_KEY) ?? config.devToken ?? '');
  const [connection, setConnection] = useState<ConnectionView>({ indicator: 'connecting', resumes: 0 });
  const [tracked, setTracked] = useState<TrackingState | undefined>(() => loadTracking(localStorage));

  const client = useMemo(
    () =>
      new RealtimeClient({
        url: config.wsUrl,
        // An order channel's token is renewed with the still-valid one before it expires.
        refreshToken: (channel, current) =>
          renewTrackingToken(config.eventsUrl, channel.slice('order:'.length), current ?? ''),
        onState: (state, detail) => setConnection((view) => nextView(view, state, detail.code)),
      }),
    [config],
  );
  useEffect(() => {
    client.connect();
    return () => client.close();
  }, [client]);
  useEffect(() => {
    if (connection.indicator !== 'resumed') return;
    const timer = setTimeout(() => setConnection(settle), 4000);
    return () => clearTimeout(timer);
  }, [connection]);

  const saveToken = (value: string) => {
    setToken(value);
    if (value) localStorage.setItem(TOKEN_KEY, value);
    else localStorage.removeItem(TOKEN_KEY);
  };

  return (
    <main>
      <header>
        <h1>choreo</h1>
        <span class="tagline">orders, live: menu, tracking and dashboard over one WebSocket</span>
        <label class="token">
          API token
          <input
            name="api-token"
            type="password"
            value={token}
            placeholder="Bearer token for POST /orders"
            onInput={(e) => saveToken(e.currentTarget.value.trim())}
          />
          {config.devToken && token === config.devToken && <small>the development stack's token</small>}
        </label>
        <span
          class={`indicator ${connection.indicator}`}
          data-connection={connection.indicator}
          title={connection.lastCode ? `last close code ${connection.lastCode}` : undefined}
        >
          {connection.indicator}
          {connection.resumes > 0 && <small> · {connection.resumes} resumed</small>}
        </span>
        <button type="button" class="link" onClick={() => client.drop()} title="drop the WebSocket">
          drop connection
        </button>
      </header>
      <div class="columns">
        <Menu
          config={config}
          client={client}
          token={token}
          onPlaced={(order) =>
            setTracked(newTracking(order.id, order.tracking.token, order.total ?? undefined))
          }
        />
        {tracked ? (
          <Tracking
            key={tracked.orderId}
            client={client}
            initial={tracked}
            onClose={() => setTracked(undefined)}
          />
        ) : (
          <section class="tracking empty">
            <h2>Tracking</h2>
            <p>Place an order: its steps, status and courier appear here as they happen.</p>
          </section>
        )}
      </div>
      <Dashboard client={client} token={token} />
    </main>
  );
}
