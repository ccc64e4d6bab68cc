namespace Qkd.Status;

/// <summary>A fixed-size ring that keeps the newest items (the board's histories); not thread-safe, the board locks.</summary>
internal sealed class Ring<T>(int capacity)
{
    private readonly T[] _items = new T[capacity];
    private int _next;

    public int Count { get; private set; }

    public T Last => Count == 0 ? throw new InvalidOperationException("The ring is empty.") : _items[(_next - 1 + _items.Length) % _items.Length];

    public void Add(T item)
    {
        _items[_next] = item;
        _next = (_next + 1) % _items.Length;
        if (Count < _items.Length) Count++;
    }

    /// <summary>Oldest first.</summary>
    public List<T> ToList()
    {
        var list = new List<T>(Count);
        int start = (_next - Count + _items.Length) % _items.Length;
        for (int i = 0; i < Count; i++) list.Add(_items[(start + i) % _items.Length]);
        return list;
    }
}
