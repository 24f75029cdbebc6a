"""networkx graphs of a scenario: lab spillovers, regulator coordination, lab-jurisdiction membership."""

from __future__ import annotations

from typing import Any

import networkx as nx

from ixsim.sim.schema.actors import GraphSpec


def build_graph(spec: GraphSpec, nodes: list[str]) -> nx.Graph:
    """Undirected weighted graph over ``nodes``: the generator's edges plus the explicit ones.

    Explicit edges add to a generated edge's weight; self-loops are dropped. Deterministic: the
    generator's seed is part of the scenario.
    """
    graph = nx.Graph()
    graph.add_nodes_from(nodes)
    n = len(nodes)
    generated = nx.empty_graph(n)
    if spec.generator == "complete":
        generated = nx.complete_graph(n)
    elif spec.generator == "ring" and n > 1:
        generated = nx.cycle_graph(n)
    elif spec.generator == "erdos_renyi":
        generated = nx.gnp_random_graph(n, spec.p, seed=spec.seed)
    elif spec.generator == "watts_strogatz" and n > 2:
        generated = nx.watts_strogatz_graph(n, min(spec.k, n - 1), spec.p, seed=spec.seed)
    for a, b in generated.edges():
        graph.add_edge(nodes[a], nodes[b], weight=spec.weight)
    for edge in spec.edges:
        if edge.source == edge.target:
            continue
        old = graph.get_edge_data(edge.source, edge.target, default={"weight": 0.0})["weight"]
        graph.add_edge(edge.source, edge.target, weight=old + edge.weight)
    return graph


def network_document(spillover: nx.Graph, coordination: nx.Graph,
                     membership: dict[str, str]) -> dict[str, Any]:
    """One node-link document (networkx's format) holding the three networks, for dashboards.

    Nodes carry ``kind`` (lab or regulator); edges carry ``kind`` (spillover, coordination,
    member). ``membership`` maps each lab to its jurisdiction at the end of the run.
    """
    combined = nx.MultiGraph()
    for lab in spillover.nodes:
        combined.add_node(f"lab:{lab}", kind="lab", name=lab, jurisdiction=membership.get(lab))
    for jur in coordination.nodes:
        combined.add_node(f"regulator:{jur}", kind="regulator", name=jur)
    for a, b, data in sorted(spillover.edges(data=True)):
        combined.add_edge(f"lab:{a}", f"lab:{b}", kind="spillover", weight=data["weight"])
    for a, b, data in sorted(coordination.edges(data=True)):
        combined.add_edge(f"regulator:{a}", f"regulator:{b}", kind="coordination",
                          weight=data["weight"])
    for lab, jur in sorted(membership.items()):
        if f"regulator:{jur}" not in combined:
            combined.add_node(f"regulator:{jur}", kind="jurisdiction", name=jur)
        combined.add_edge(f"lab:{lab}", f"regulator:{jur}", kind="member", weight=1.0)
    return nx.node_link_data(combined, edges="edges")
