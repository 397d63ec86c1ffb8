/** The viewer page's entry: renders {@link App} into `#app` (viewer/index.html). */
import { render } from 'preact';
import { App } from './App.tsx';

render(<App />, document.getElementById('app')!);
