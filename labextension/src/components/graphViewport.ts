/**
 * Zoom (wheel), pan (drag) and fit-to-view of the run graph's SVG, through its
 * viewBox. Fitted by default, so nothing of a wide graph is cut off.
 */
import React, { useCallback, useEffect, useRef, useState } from 'react';

export interface IViewBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface IViewport {
  viewBox: IViewBox;
  fitted: boolean;
  fit: () => void;
  onPointerDown: (e: React.PointerEvent<SVGSVGElement>) => void;
  /** Swallows the click that ends a drag (so a drag does not select a node). */
  onClickCapture: (e: React.MouseEvent) => void;
  svgRef: React.RefObject<SVGSVGElement>;
}

let views = 0;

/** An id unique to one mounted view (two run views keep their own markers). */
export function useUniqueId(prefix: string): string {
  const id = useRef<string | null>(null);
  if (id.current === null) {
    id.current = `${prefix}-${++views}`;
  }
  return id.current;
}

export function useViewport(width: number, height: number): IViewport {
  const full = { x: 0, y: 0, w: width, h: height };
  const [box, setBox] = useState<IViewBox | null>(null); // null: fitted
  const svgRef = useRef<SVGSVGElement>(null);
  const dragged = useRef(false);
  const viewBox = box ?? full;
  const current = useRef(viewBox);
  current.current = viewBox;

  useEffect(() => setBox(null), [width, height]);

  useEffect(() => {
    const svg = svgRef.current;
    if (!svg) {
      return;
    }
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const m = svg.getScreenCTM();
      if (!m) {
        return;
      }
      const p = new DOMPoint(e.clientX, e.clientY).matrixTransform(m.inverse());
      const b = current.current;
      const factor = e.deltaY > 0 ? 1.15 : 1 / 1.15;
      const w = Math.min(Math.max(b.w * factor, 40), width * 4);
      const k = w / b.w;
      setBox({
        x: p.x - (p.x - b.x) * k,
        y: p.y - (p.y - b.y) * k,
        w,
        h: b.h * k
      });
    };
    svg.addEventListener('wheel', onWheel, { passive: false });
    return () => svg.removeEventListener('wheel', onWheel);
  }, [width, height]);

  const onPointerDown = useCallback((e: React.PointerEvent<SVGSVGElement>) => {
    if (e.button !== 0 || !svgRef.current) {
      return;
    }
    const start = { x: e.clientX, y: e.clientY, box: current.current };
    const rect = svgRef.current.getBoundingClientRect();
    const scale =
      Math.max(start.box.w / rect.width, start.box.h / rect.height) || 1;
    dragged.current = false;
    const move = (ev: PointerEvent) => {
      const dx = ev.clientX - start.x;
      const dy = ev.clientY - start.y;
      if (!dragged.current && Math.hypot(dx, dy) < 4) {
        return;
      }
      dragged.current = true;
      setBox({
        ...start.box,
        x: start.box.x - dx * scale,
        y: start.box.y - dy * scale
      });
    };
    const up = () => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
  }, []);

  const onClickCapture = useCallback((e: React.MouseEvent) => {
    if (dragged.current) {
      dragged.current = false;
      e.stopPropagation();
    }
  }, []);

  return {
    viewBox,
    fitted: box === null,
    fit: () => setBox(null),
    onPointerDown,
    onClickCapture,
    svgRef
  };
}
