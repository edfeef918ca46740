/// A small generic DAG: edges point from a vertex to what it depends on.
/// Topological layers, cycle detection that names the cycle, and Mermaid/DOT rendering.

public struct DirectedGraph<Vertex: Hashable & Comparable & Sendable>: Sendable {
    public private(set) var vertices: Set<Vertex> = []
    /// vertex → the vertices it depends on.
    public private(set) var dependencies: [Vertex: Set<Vertex>] = [:]
    /// vertex → the vertices that depend on it.
    public private(set) var dependents: [Vertex: Set<Vertex>] = [:]

    public init() {}

    public mutating func add(_ v: Vertex) {
        vertices.insert(v)
    }

    /// `from` depends on `to`: `to` must be done before `from` starts.
    public mutating func addEdge(from: Vertex, to: Vertex) {
        vertices.insert(from)
        vertices.insert(to)
        dependencies[from, default: []].insert(to)
        dependents[to, default: []].insert(from)
    }

    /// Removes a vertex and its edges.
    public mutating func remove(_ v: Vertex) {
        vertices.remove(v)
        for d in dependencies.removeValue(forKey: v) ?? [] { dependents[d]?.remove(v) }
        for d in dependents.removeValue(forKey: v) ?? [] { dependencies[d]?.remove(v) }
    }

    public func dependencies(of v: Vertex) -> Set<Vertex> { dependencies[v] ?? [] }
    public func dependents(of v: Vertex) -> Set<Vertex> { dependents[v] ?? [] }

    /// Every vertex `v` transitively depends on, `v` excluded.
    public func ancestors(of roots: some Sequence<Vertex>) -> Set<Vertex> {
        var seen: Set<Vertex> = []
        var stack = Array(roots)
        while let v = stack.popLast() {
            for d in dependencies(of: v) where seen.insert(d).inserted { stack.append(d) }
        }
        return seen
    }

    /// Every vertex that transitively depends on one of `roots`.
    public func descendants(of roots: some Sequence<Vertex>) -> Set<Vertex> {
        var seen: Set<Vertex> = []
        var stack = Array(roots)
        while let v = stack.popLast() {
            for d in dependents(of: v) where seen.insert(d).inserted { stack.append(d) }
        }
        return seen
    }

    /// Dependencies first; ties broken by vertex order so the result is deterministic.
    /// Returns nil when there is a cycle (use `findCycle` to name it).
    public func topologicalOrder() -> [Vertex]? {
        var remaining: [Vertex: Int] = [:]
        remaining.reserveCapacity(vertices.count)
        for v in vertices { remaining[v] = dependencies[v]?.count ?? 0 }
        // Kahn's algorithm with a FIFO queue: roots in sorted order, then each vertex's released dependents
        // in sorted order — deterministic without re-sorting the whole queue (which made 10,000 quadratic).
        var queue = vertices.filter { remaining[$0] == 0 }.sorted()
        var head = 0
        queue.reserveCapacity(vertices.count)
        while head < queue.count {
            let v = queue[head]
            head += 1
            var released: [Vertex] = []
            for d in dependents(of: v) {
                remaining[d]! -= 1
                if remaining[d] == 0 { released.append(d) }
            }
            if released.count > 1 { released.sort() }
            queue.append(contentsOf: released)
        }
        return queue.count == vertices.count ? queue : nil
    }

    /// One cycle, as the list of vertices along it (first vertex not repeated), or nil.
    public func findCycle() -> [Vertex]? {
        var marks: [Vertex: CycleMark] = [:]
        var path: [Vertex] = []
        for start in vertices.sorted() where marks[start] == nil {
            // Iterative DFS: (vertex, its sorted dependencies, next index).
            var stack: [(Vertex, [Vertex], Int)] = [(start, dependencies(of: start).sorted(), 0)]
            marks[start] = .visiting
            path.append(start)
            while !stack.isEmpty {
                let (v, next, i) = stack[stack.count - 1]
                if i == next.count {
                    marks[v] = .done
                    path.removeLast()
                    stack.removeLast()
                    continue
                }
                stack[stack.count - 1].2 += 1
                let w = next[i]
                switch marks[w] {
                case .visiting:
                    let from = path.firstIndex(of: w)!
                    return Array(path[from...])
                case .done:
                    continue
                case nil:
                    marks[w] = .visiting
                    path.append(w)
                    stack.append((w, dependencies(of: w).sorted(), 0))
                }
            }
        }
        return nil
    }

    /// Mermaid `graph TD`, edges drawn from dependency to dependent (the order things happen).
    public func mermaid(label: (Vertex) -> String) -> String {
        let sorted = vertices.sorted()
        var ids: [Vertex: String] = [:]
        for (i, v) in sorted.enumerated() { ids[v] = "n\(i)" }
        var lines = ["graph TD"]
        for v in sorted { lines.append("    \(ids[v]!)[\"\(label(v).replacingQuotes)\"]") }
        for v in sorted {
            for d in dependencies(of: v).sorted() { lines.append("    \(ids[d]!) --> \(ids[v]!)") }
        }
        return lines.joined(separator: "\n")
    }

    /// Graphviz DOT, edges from dependency to dependent.
    public func dot(label: (Vertex) -> String) -> String {
        var lines = ["digraph maifctl {", "    rankdir=LR;", "    node [shape=box];"]
        for v in vertices.sorted() { lines.append("    \"\(label(v).replacingQuotes)\";") }
        for v in vertices.sorted() {
            for d in dependencies(of: v).sorted() {
                lines.append("    \"\(label(d).replacingQuotes)\" -> \"\(label(v).replacingQuotes)\";")
            }
        }
        lines.append("}")
        return lines.joined(separator: "\n")
    }
}

private enum CycleMark { case visiting, done }

extension String {
    fileprivate var replacingQuotes: String {
        String(map { $0 == "\"" ? "'" : $0 })
    }
}
