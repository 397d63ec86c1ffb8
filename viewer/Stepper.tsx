/** Steps through a stream's versions: ← →, a slider, where it stands. */
export interface StepperProps {
  version: number;
  total: number;
  onSelect: (version: number) => void;
}

export function Stepper(props: StepperProps) {
  const { version, total } = props;
  return (
    <div class="stepper">
      <button type="button" onClick={() => props.onSelect(version - 1)} aria-label="previous event" disabled={version <= 0}>
        ←
      </button>
      <input
        type="range"
        min="0"
        max={total}
        value={version}
        aria-label="stream version"
        data-testid="version-slider"
        onInput={(e) => props.onSelect(Number(e.currentTarget.value))}
      />
      <button type="button" onClick={() => props.onSelect(version + 1)} aria-label="next event" disabled={version >= total}>
        →
      </button>
      <span data-testid="version-label">
        v{version} of {total}
      </span>
    </div>
  );
}
