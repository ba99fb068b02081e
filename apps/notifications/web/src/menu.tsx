import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { Channels } from '@choreo/contracts';
import type { RealtimeClient } from '@choreo/realtime-client';
import { listProducts, PageConfig, placeOrder, PlacedOrder } from './api';
import { applyProductChange, Product } from './product-state';

/**
 * The menu from `/crud/product`, its stock kept live by `entity:product`, and the order form
 * (`POST /orders` with the API token).
 */
export function Menu(props: {
  config: PageConfig;
  client: RealtimeClient;
  token: string;
  onPlaced: (order: PlacedOrder) => void;
}) {
  const { config, client, token } = props;
  const [products, setProducts] = useState<Product[]>([]);
  const [quantities, setQuantities] = useState<Record<string, number>>({});
  const [customer, setCustomer] = useState(() => localStorage.getItem('choreo.customer') ?? 'Ada');
  const [address, setAddress] = useState('1 Main Street');
  const [message, setMessage] = useState<{ error: boolean; text: string }>();
  const [placing, setPlacing] = useState(false);

  // Read when needed, so typing the token does not re-subscribe on every key.
  const tokenRef = useRef(token);
  tokenRef.current = token;

  const reload = useCallback(() => {
    listProducts(config, tokenRef.current || undefined).then(setProducts, (error: unknown) =>
      setMessage({ error: true, text: `menu: ${String(error)}` }),
    );
  }, [config]);

  useEffect(() => {
    // Subscribe first, then read the rows: a change committed in between is not lost.
    const subscription = client.subscribe(Channels.entity('product'), {
      token: tokenRef.current || undefined,
      onPublication: (frame) =>
        setProducts((held) => {
          const next = applyProductChange(held, frame.data);
          if (!next) reload();
          return next ?? held;
        }),
      // The entity channel's history did not cover the gap: the rows are the truth.
      onSnapshot: () => reload(),
    });
    reload();
    return () => subscription.unsubscribe();
  }, [client, reload]);

  const items = Object.entries(quantities)
    .filter(([, quantity]) => quantity > 0)
    .map(([product_id, quantity]) => ({ product_id, quantity }));

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!token) return setMessage({ error: true, text: 'enter the API token first (top right)' });
    setPlacing(true);
    setMessage(undefined);
    localStorage.setItem('choreo.customer', customer);
    try {
      const order = await placeOrder(config, token, { customer, address, items });
      setQuantities({});
      setMessage({ error: false, text: `order ${order.id.slice(0, 8)} placed (${order.total})` });
      props.onPlaced(order);
    } catch (error) {
      setMessage({ error: true, text: `order refused: ${(error as Error).message}` });
    } finally {
      setPlacing(false);
    }
  };

  return (
    <section class="menu">
      <h2>Menu</h2>
      {products.length === 0 ? (
        <p>No products yet: create some with POST /crud/product.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>product</th>
              <th>price</th>
              <th>stock</th>
              <th>qty</th>
            </tr>
          </thead>
          <tbody>
            {products.map((p) => (
              <tr key={p.id} data-product={p.name} data-product-id={p.id}>
                <td>
                  {p.name}
                  {p.category && <small> {p.category}</small>}
                </td>
                <td class="num">{p.price}</td>
                <td class={`num ${p.stock === 0 ? 'out' : ''}`} data-stock={p.stock}>
                  {p.stock}
                </td>
                <td>
                  <input
                    type="number"
                    min="0"
                    max={p.stock}
                    value={quantities[p.id] ?? 0}
                    aria-label={`quantity of ${p.name}`}
                    onInput={(e) =>
                      setQuantities({ ...quantities, [p.id]: Number(e.currentTarget.value) || 0 })
                    }
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form onSubmit={(e) => void submit(e)}>
        <label>
          name <input name="customer" value={customer} onInput={(e) => setCustomer(e.currentTarget.value)} />
        </label>
        <label>
          address <input name="address" value={address} onInput={(e) => setAddress(e.currentTarget.value)} />
        </label>
        <button type="submit" disabled={placing || items.length === 0}>
          {placing ? 'placing…' : 'Place order'}
        </button>
      </form>
      {message && <p class={message.error ? 'error' : 'ok'}>{message.text}</p>}
    </section>
  );
}
