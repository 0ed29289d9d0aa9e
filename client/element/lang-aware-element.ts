// The base of <rtmp-broadcaster>: a LitElement that renders again when its own `lang` attribute
// changes, so its words follow at once; `lang` stays the built-in property.
import { LitElement } from 'lit';

/** A LitElement that re-renders when its `lang` attribute changes. */
export class LangAwareElement extends LitElement {
  static override get observedAttributes(): string[] {
    // biome-ignore lint/complexity/noThisInStatic: super's getter must run for the subclass (Lit finalizes its attributes there), not for LitElement
    return [...super.observedAttributes, 'lang'];
  }

  override attributeChangedCallback(name: string, old: string | null, value: string | null): void {
    super.attributeChangedCallback(name, old, value);
    if (name === 'lang') this.requestUpdate();
  }
}
