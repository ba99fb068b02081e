import { applyProductChange, Product } from './product-state';

const tea: Product = { id: 'a', name: 'Tea', price: '2.50', category: 'drinks', stock: 10 };
const cake: Product = { id: 'b', name: 'Cake', price: '4.00', category: 'food', stock: 3 };

describe('product state', () => {
  it('applies an update, keeping columns the change left out', () => {
    const sut = applyProductChange([tea, cake], { before: tea, after: { id: 'a', stock: 7 }, unchanged: [] });
    expect(sut?.find((p) => p.id === 'a')).toEqual({ ...tea, stock: 7 });
  });

  it('adds a new product in name order and removes a deleted one', () => {
    const added = applyProductChange([tea], { before: null, after: cake });
    expect(added?.map((p) => p.name)).toEqual(['Cake', 'Tea']);
    expect(applyProductChange(added ?? [], { before: { id: 'a' }, after: null })).toEqual([cake]);
  });

  it('asks for a reload when it cannot read the change', () => {
    expect(applyProductChange([tea], null)).toBeUndefined();
    expect(applyProductChange([tea], { after: { id: 'new', stock: 1 } })).toBeUndefined();
  });
});
